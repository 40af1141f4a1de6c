// flowpic bench pictures [--workload FILE] --preset NAME --threads N [--backend scalar|simd|tbb|cuda] [--sparse]:
// times picture making over a FLOWPIC1 workload (../shared/peers; a synthetic one made in
// memory by default) and prints one line, `key=value` pairs as the peers print them, with
// blocks_per_s= and packets_per_s= (medians over --runs passes over every block).
//
// What is timed: the per-block work only, as ../shared/peers/hist_peer.py times its variants
// (the workload is loaded before timing). Output contracts (output= and contract= in the line):
//   dense, contract=reused_touched_reset   every block's picture fully materialised (channels x H x
//       x W) in a buffer reused from block to block; only the cells the previous block touched
//       are reset (hist_peer's numpy_sortruns_sparse_reset contract)
//   dense, contract=full_clear (--clear full)   the whole buffer is cleared for every block
//       (hist_peer's numpy_sortruns / numpy_bincount contract)
//   sparse   every block's sorted non-zero cells and values appended to one sparse stack held
//       in memory (sparse_bytes= is its size)
//   dense, backend cuda, contract=full_pictures_pinned   every block's picture fully materialised
//       in pinned host memory, chunk by chunk (picture::cuda_maker::for_each_dense_chunk), packing
//       and transfers included; sparse as above
// A line also gives bg_cores= (CPU used by other processes while timing, as the peers measure
// it) so that disturbed runs can be told apart; --max-wait waits for a quiet machine first.
//
// More benchmarks: register them after "bench" in their own translation unit and attach them
// to it, e.g. for `flowpic bench network`:
//   void add_bench_network(CLI::App& app) { app.get_subcommand("bench")->add_subcommand("network", ...); }
//   const registrar reg_bench_network{"bench network", 91, &add_bench_network};
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include "commands.hpp"
#include "flowpic/backend/backend.hpp"
#include "flowpic/backend/simd_arch.hpp"
#include "flowpic/picture/many_blocks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/flowpic1.hpp"
#if FLOWPIC_HAS_CUDA  // the tool links flowpic::cuda where it was built
#include "flowpic/picture/kernels/cuda.hpp"
#include "options.hpp"
#endif

namespace flowpic::tool {

namespace {

// CPU used by other processes: busy jiffies of /proc/stat minus this process's CPU time.
class background_load {
public:
    background_load() : t_(now()), busy_(busy()), steal_(steal()), own_(own()) {}
    [[nodiscard]] double cores() const {
        const double dt = now() - t_;
        return dt > 0 ? std::max(0.0, ((busy() - busy_) - (own() - own_)) / dt) : 0.0;
    }
    [[nodiscard]] double steal_cores() const {
        const double dt = now() - t_;
        return dt > 0 ? (steal() - steal_) / dt : 0.0;
    }

private:
    static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
    static std::vector<double> fields() {
        std::ifstream f("/proc/stat");
        std::string cpu;
        std::vector<double> v(8, 0.0);
        f >> cpu;
        for (auto& x : v) f >> x;
        for (auto& x : v) x /= static_cast<double>(sysconf(_SC_CLK_TCK));
        return v;
    }
    static double busy() {
        const auto v = fields();  // user nice system idle iowait irq softirq steal
        return v[0] + v[1] + v[2] + v[5] + v[6];
    }
    static double steal() { return fields()[7]; }
    static double own() {
        rusage r{};
        getrusage(RUSAGE_SELF, &r);
        return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + 1e-6 * static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
    }
    double t_, busy_, steal_, own_;
};

// Waits up to max_wait seconds for other processes to use < 0.15 cores over one second.
double wait_quiet(double max_wait) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(max_wait);
    for (;;) {
        background_load b;
        std::this_thread::sleep_for(std::chrono::seconds(1));
        const double load = b.cores();
        if (load < 0.15 || std::chrono::steady_clock::now() >= deadline) return load;
    }
}

struct bench_options {
    std::string workload;
    std::string preset{presets::shapira2019::name};
    std::size_t threads = 1;
    std::string backend;
    bool sparse = false;
    std::string clear = "touched";
    std::size_t runs = 5;
    std::uint32_t blocks = 2000;
    std::uint32_t seed = 20240601;
    double max_wait = 0;
};

template <class H, class B>
struct pictures_bench {
    using T = typename H::value_type;
    const bench_options& o;
    const source::flowpic1_workload& w;
    std::vector<T> sink;
    std::size_t nnz = 0, sparse_bytes = 0;

    // One pass over every block; returns seconds.
    double pass() {
        const auto blocks = w.blocks();
        const std::size_t n = blocks.size();
        sink.assign(n, T{});
        const auto t0 = std::chrono::steady_clock::now();
        if (o.sparse) {
            const auto stack = picture::make_sparse_stack<H, B>(blocks);
            nnz = stack.nnz();
            sparse_bytes = stack.bytes();
        } else if (o.clear == "full") {
            if constexpr (std::is_same_v<B, backend::tbb>) {
                ::tbb::enumerable_thread_specific<std::pair<picture::maker<H, B>, picture::dense_picture<T>>> local;
                ::tbb::parallel_for(::tbb::blocked_range<std::size_t>(0, n, 16), [&](const auto& r) {
                    auto& [m, d] = local.local();
                    for (std::size_t i = r.begin(); i != r.end(); ++i) {
                        m.dense(blocks[i], d);
                        sink[i] = d.data[(i * 7919) % d.data.size()];
                    }
                });
            } else {
                picture::maker<H, B> m;
                picture::dense_picture<T> d;
                for (std::size_t i = 0; i < n; ++i) {
                    m.dense(blocks[i], d);
                    sink[i] = d.data[(i * 7919) % d.data.size()];
                }
            }
        } else {
            picture::for_each_dense<H, B>(blocks, [&](std::size_t i, const picture::dense_picture<T>& d) {
                sink[i] = d.data[(i * 7919) % d.data.size()];
            });
        }
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
};

#if FLOWPIC_HAS_CUDA
// backend::cuda: one GPU context for every pass (its buffers grow in the warm-up pass).
template <class H>
struct pictures_bench<H, backend::cuda> {
    using T = typename H::value_type;
    const bench_options& o;
    const source::flowpic1_workload& w;
    std::vector<T> sink;
    std::size_t nnz = 0, sparse_bytes = 0;
    picture::cuda_maker<H> gpu{};

    double pass() {
        const auto blocks = w.blocks();
        sink.assign(blocks.size(), T{});
        const auto t0 = std::chrono::steady_clock::now();
        if (o.sparse) {
            const auto stack = gpu.make_sparse_stack(blocks);
            nnz = stack.nnz();
            sparse_bytes = stack.bytes();
        } else {
            constexpr std::size_t per = H::channel_count * H::cells;
            gpu.for_each_dense_chunk(blocks, [&](std::size_t first, std::size_t count, std::span<const T> nchw) {
                for (std::size_t k = 0; k < count; ++k) sink[first + k] = nchw[k * per + ((first + k) * 7919) % per];
            });
        }
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
};

std::string gpu_name() {
    int device = 0;
    char name[256];
    if (flowpic_cuda_device_name(device, name, sizeof name) != FLOWPIC_CUDA_SUCCESS) return "unknown";
    std::string s(name);
    for (char& c : s)
        if (c == ' ') c = '_';
    return s;
}
#endif

template <class Preset, class B>
void run_pictures(const bench_options& o, const source::flowpic1_workload& w) {
    using H = typename Preset::picture;
    pictures_bench<H, B> bench{o, w, {}};
    bench.pass();  // warm-up pass, untimed (page faults, caches, TBB workers)
    const double bg0 = o.max_wait > 0 ? wait_quiet(o.max_wait) : 0.0;
    background_load bg;
    std::vector<double> secs;
    for (std::size_t r = 0; r < o.runs; ++r) secs.push_back(bench.pass());
    const double bgc = bg.cores(), steal = bg.steal_cores();
    std::vector<double> sorted = secs;
    std::sort(sorted.begin(), sorted.end());
    const double med = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                         : 0.5 * (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]);
    const double nb = static_cast<double>(w.block_count()), np = static_cast<double>(w.packet_count());
    std::ostringstream line;
    line.setf(std::ios::fixed);
    line.precision(1);
    line << "bench=pictures preset=" << Preset::name << " res=" << H::height << "x" << H::width << " channels=" << H::channel_count
         << " backend=" << B::name << " isa=" << backend::simd_arch_name() << " threads=" << o.threads
         << " output=" << (o.sparse ? "sparse" : "dense")
         << " contract="
         << (o.sparse ? "stack_in_memory"
             : std::is_same_v<B, backend::cuda> ? "full_pictures_pinned"
             : o.clear == "full"                ? "full_clear"
                                                : "reused_touched_reset")
         << " workload=" << (o.workload.empty() ? "synthetic" : std::filesystem::path(o.workload).filename().string())
         << " blocks=" << w.block_count() << " packets=" << w.packet_count() << " runs=" << o.runs
         << " blocks_per_s=" << nb / med << " blocks_per_s_min=" << nb / sorted.back()
         << " blocks_per_s_max=" << nb / sorted.front();
    line.precision(4);
    line << std::scientific << " packets_per_s=" << np / med << std::fixed;
    line.precision(4);
    line << " ms_per_block=" << med / nb * 1e3;
    if (o.sparse)
        line << " nnz_per_block=" << static_cast<double>(bench.nnz) / nb << " sparse_bytes=" << bench.sparse_bytes
             << " dense_bytes=" << static_cast<std::uint64_t>(nb) * H::channel_count * H::cells * sizeof(typename H::value_type);
#if FLOWPIC_HAS_CUDA
    if constexpr (std::is_same_v<B, backend::cuda>) line << " gpu=" << gpu_name();
#endif
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    line.precision(1);
    line << " peak_rss_mb=" << static_cast<double>(ru.ru_maxrss) / 1024.0;
    line.precision(2);
    line << " bg_cores_before=" << bg0 << " bg_cores=" << bgc << " steal_cores=" << steal;
    std::puts(line.str().c_str());
    std::fflush(stdout);
}

void bench_pictures(const bench_options& o) {
    std::string be = o.backend.empty() ? (o.threads > 1 ? "tbb" : "simd") : o.backend;
    if (o.threads > 1 && be != "tbb") throw std::invalid_argument("--threads above 1 needs --backend tbb (many blocks at once)");
    if (o.clear != "touched" && o.clear != "full") throw std::invalid_argument("--clear is touched or full");
    const source::flowpic1_workload w =
        o.workload.empty() ? source::flowpic1_workload::synthetic(o.blocks, o.seed) : source::flowpic1_workload(o.workload);
    ::tbb::global_control threads(::tbb::global_control::max_allowed_parallelism, std::max<std::size_t>(o.threads, 1));
    presets::visit(o.preset, [&](auto p) {
        using P = decltype(p);
        if (be == "scalar") run_pictures<P, backend::scalar>(o, w);
        else if (be == "simd") run_pictures<P, backend::simd>(o, w);
        else if (be == "tbb") run_pictures<P, backend::tbb>(o, w);
#if FLOWPIC_HAS_CUDA
        else run_pictures<P, backend::cuda>(o, w);
#else
        else throw std::invalid_argument("--backend cuda: this flowpic was built without CUDA (flowpic::cuda is built where "
                                         "CMake finds nvcc, with FLOWPIC_ENABLE_CUDA=ON)");
#endif
    });
}

void add_bench_command(CLI::App& app) {
    auto* bench = app.add_subcommand("bench", "Time flowpic's stages on a workload (one key=value line per measurement)");
    bench->require_subcommand(1);
    auto* cmd = bench->add_subcommand("pictures", "Time picture making (blocks -> FlowPics) on a FLOWPIC1 workload");
    auto o = std::make_shared<bench_options>();
    cmd->add_option("--workload", o->workload, "FLOWPIC1 file (../shared/peers/gen_workload.py); default: a synthetic one in memory");
    add_picture_preset_option(*cmd, o->preset);
    cmd->add_option("--threads", o->threads, "worker threads (above 1: the tbb backend)")->check(CLI::Range(1, 1024))->capture_default_str();
    cmd->add_option("--backend", o->backend,
                    "scalar, simd, tbb or cuda (default: simd, tbb with --threads > 1; cuda where built with flowpic::cuda)")
        ->check(CLI::IsMember({"scalar", "simd", "tbb", "cuda"}));
    cmd->add_flag("--sparse", o->sparse, "sparse pictures (a sparse stack of every block) instead of dense ones");
    cmd->add_option("--clear", o->clear, "dense buffer between blocks: touched (reset the previous block's cells) or full")
        ->check(CLI::IsMember({"touched", "full"}))
        ->capture_default_str();
    cmd->add_option("--runs", o->runs, "timed passes over the workload (the median is reported)")->check(CLI::Range(1, 1000))->capture_default_str();
    cmd->add_option("--blocks", o->blocks, "blocks of the synthetic workload")->capture_default_str();
    add_seed_option(*cmd, o->seed, "seed of the synthetic workload");
    cmd->add_option("--max-wait", o->max_wait, "seconds to wait for a quiet machine before timing (0: do not wait)")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([o] { bench_pictures(*o); });
}

const registrar reg_bench{"bench", 90, &add_bench_command};

}  // namespace

}  // namespace flowpic::tool
