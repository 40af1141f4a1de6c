// flowpic bench network --preset NAME --mode infer|train --batch B --threads N [--input workload|dense]
// [--workload FILE] [--repeats R] [--min-repeat-s S] [--max-wait S] [--kernels scalar|simd|tbb]:
// times the network on FlowPic pictures and prints one line, `key=value` pairs as
// ../shared/peers/cnn_peer.py prints them, with images_per_s= (median over repeats).
//
// What is timed, as the PyTorch peer times it: infer = one forward pass of the batch with the
// head's probabilities (no gradients, dropout off); train = loss and gradients of the batch
// (dropout on) plus one Adam step (lr 1e-3). Inputs: pictures of the workload's blocks made with
// the preset's picture policy (FLOWPIC1 file, or the same synthetic workload made in memory),
// as float32; --input dense fills them with random non-zero values instead (the worst case for
// nothing, as the kernels are dense). Classes: 5 (network_stats: its one output).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include "commands.hpp"
#include "flowpic/backend/simd_arch.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/presets.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/picture/presets.hpp"
#include "flowpic/source/flowpic1.hpp"

namespace flowpic::tool {

namespace {

struct network_bench_options {
    std::string preset = "shapira2019", mode = "infer", input = "workload", workload, kernels = "tbb";
    std::size_t batch = 32, threads = 2, repeats = 5;
    double min_repeat_s = 0.3, max_wait = 0;
};

// CPU that other processes used while timing, from /proc/stat (as the peers measure it).
class other_load {
public:
    other_load() : t_(now()), busy_(busy()), own_(own()) {}
    [[nodiscard]] double cores() const {
        const double dt = now() - t_;
        return dt > 0 ? std::max(0.0, ((busy() - busy_) - (own() - own_)) / dt) : 0.0;
    }

private:
    static double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
    static double busy() {
        std::ifstream f("/proc/stat");
        std::string cpu;
        double v[8] = {};
        f >> cpu;
        for (double& x : v) f >> x;
        return (v[0] + v[1] + v[2] + v[5] + v[6]) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    static double own() {
        rusage r{};
        getrusage(RUSAGE_SELF, &r);
        return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
               1e-6 * static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
    }
    double t_, busy_, own_;
};

double peak_rss_mb() {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return static_cast<double>(r.ru_maxrss) / 1024.0;
}

// `batch` pictures of the workload's first blocks (cycling), as float32 network input.
template <class Picture>
std::vector<float> workload_pictures(const network_bench_options& o, std::size_t batch, std::size_t size,
                                     std::vector<std::int32_t>& labels, std::size_t classes) {
    const auto w = o.workload.empty()
                       ? source::flowpic1_workload::synthetic(static_cast<std::uint32_t>(std::clamp<std::size_t>(batch, 200, 2000)))
                       : source::flowpic1_workload(o.workload);
    picture::maker<Picture> m;
    std::vector<float> x(batch * size);
    labels.resize(batch);
    picture::dense_picture<typename Picture::value_type> d;
    for (std::size_t i = 0; i < batch; ++i) {
        const std::size_t b = i % w.block_count();
        m.dense(w.block(b), d);
        const std::size_t n = std::min(size, d.data.size());
        for (std::size_t k = 0; k < n; ++k) x[i * size + k] = static_cast<float>(d.data[k]);
        labels[i] = static_cast<std::int32_t>(w.labels()[b] % classes);
    }
    return x;
}

template <class Net, class Picture, class Loss, class K>
void run_bench(const network_bench_options& o, const char* name, Loss loss, K tag) {
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    constexpr std::size_t size = Net::input_shape.size(), classes = Net::output_shape.size();
    const double base_rss = peak_rss_mb();
    std::vector<std::int32_t> labels;
    std::vector<float> x;
    if (o.input == "dense") {
        x.resize(o.batch * size);
        nn::rng r(3);
        for (auto& v : x) v = static_cast<float>(1 + r.below(8));
        labels.resize(o.batch);
        for (std::size_t i = 0; i < o.batch; ++i) labels[i] = static_cast<std::int32_t>(i % std::max<std::size_t>(classes, 2));
    } else {
        x = workload_pictures<Picture>(o, o.batch, size, labels, std::max<std::size_t>(classes, 2));
    }
    std::vector<float> probs(o.batch * classes);
    nn::adam opt;
    std::uint64_t step = 0;
    auto iteration = [&] {
        if (o.mode == "train") {
            const nn::run_context ctx{true, 7, step++, 0, 0};
            net->gradient(x.data(), o.batch, nn::targets{labels, {}}, loss, ctx, tag);
            opt.step(net->params(), std::span<const float>(net->grads()));
        } else {
            net->predict(x.data(), o.batch, probs.data(), tag);
        }
    };
    using clock = std::chrono::steady_clock;
    auto t = clock::now();
    iteration();
    const double first = std::chrono::duration<double>(clock::now() - t).count();
    t = clock::now();
    iteration();
    const double one = std::max(std::chrono::duration<double>(clock::now() - t).count(), 1e-6);
    const std::size_t k = std::max<std::size_t>(1, static_cast<std::size_t>(o.min_repeat_s / one + 0.5));
    if (o.max_wait > 0) {
        const auto deadline = clock::now() + std::chrono::duration<double>(o.max_wait);
        while (clock::now() < deadline) {
            other_load b;
            std::this_thread::sleep_for(std::chrono::seconds(1));
            if (b.cores() < 0.15) break;
        }
    }
    std::vector<double> reps;
    other_load bg;
    for (std::size_t r = 0; r < o.repeats; ++r) {
        t = clock::now();
        for (std::size_t i = 0; i < k; ++i) iteration();
        reps.push_back(std::chrono::duration<double>(clock::now() - t).count() / static_cast<double>(k));
    }
    const double bgc = bg.cores();
    std::sort(reps.begin(), reps.end());
    const double med = reps[reps.size() / 2];
    const double ips = static_cast<double>(o.batch) / med;
    const double macs = static_cast<double>(Net::macs);  // forward multiply-adds per picture
    std::printf("peer=flowpic_%s mode=%s batch=%zu threads=%zu images_per_s=%.2f images_per_s_min=%.2f "
                "images_per_s_max=%.2f ms_per_iter=%.3f iters_per_repeat=%zu repeats=%zu first_iter_ms=%.1f "
                "fwd_gflops=%.2f base_rss_mb=%.0f peak_rss_mb=%.0f bg_cores=%.2f input=%s kernels=%s simd=%s\n",
                name, o.mode.c_str(), o.batch, o.threads, ips, static_cast<double>(o.batch) / reps.back(),
                static_cast<double>(o.batch) / reps.front(), med * 1e3, k, o.repeats, first * 1e3,
                2 * macs * ips / 1e9, base_rss, peak_rss_mb(), bgc, o.input.c_str(), o.kernels.c_str(),
                backend::simd_arch_name());
    std::fflush(stdout);
}

template <class K>
void dispatch(const network_bench_options& o, K tag) {
    using pp = picture::presets::shapira2019;
    if (o.preset == "shapira2019")
        run_bench<nn::presets::shapira2019<5>, pp::picture>(o, "shapira2019", nn::categorical_crossentropy{}, tag);
    else if (o.preset == "mini_flowpic")
        run_bench<nn::presets::mini_flowpic<5>, picture::presets::mini_flowpic<32>::picture>(
            o, "mini_flowpic", nn::categorical_crossentropy{}, tag);
    else if (o.preset == "mini_flowpic64")
        run_bench<nn::presets::mini_flowpic<5, 64>, picture::presets::mini_flowpic<64>::picture>(
            o, "mini_flowpic64", nn::categorical_crossentropy{}, tag);
    else if (o.preset == "network_stats")
        run_bench<nn::presets::network_stats<>, pp::picture>(o, "network_stats", nn::binary_crossentropy{}, tag);
    else
        throw CLI::ValidationError("--preset", "unknown preset " + o.preset);
}

void add_bench_network(CLI::App& app) {
    CLI::App* bench = nullptr;
    for (auto* s : app.get_subcommands([](CLI::App*) { return true; }))
        if (s->get_name() == "bench") bench = s;
    if (!bench) bench = app.add_subcommand("bench", "Benchmarks");
    auto* cmd = bench->add_subcommand("network", "Time the network (inference or a training step) on FlowPic pictures");
    auto o = std::make_shared<network_bench_options>();
    cmd->add_option("--preset", o->preset, "shapira2019, mini_flowpic, mini_flowpic64 or network_stats")
        ->capture_default_str();
    cmd->add_option("--mode", o->mode, "infer or train")->check(CLI::IsMember({"infer", "train"}))->capture_default_str();
    cmd->add_option("--batch", o->batch, "pictures per iteration")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--threads", o->threads, "threads")->check(CLI::PositiveNumber)->capture_default_str();
    cmd->add_option("--input", o->input, "workload (FlowPic pictures) or dense (random counts everywhere)")
        ->check(CLI::IsMember({"workload", "dense"}))
        ->capture_default_str();
    cmd->add_option("--workload", o->workload, "FLOWPIC1 file (default: the synthetic workload, made in memory)");
    cmd->add_option("--kernels", o->kernels, "scalar, simd or tbb")->check(CLI::IsMember({"scalar", "simd", "tbb"}))
        ->capture_default_str();
    cmd->add_option("--repeats", o->repeats, "timed repeats (the median is reported)")->capture_default_str();
    cmd->add_option("--min-repeat-s", o->min_repeat_s, "seconds per repeat at least")->capture_default_str();
    cmd->add_option("--max-wait", o->max_wait, "seconds to wait for a quiet machine first");
    cmd->callback([o] {
        oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism, o->threads);
        if (o->kernels == "scalar") dispatch(*o, nn::kernels::scalar{});
        else if (o->kernels == "simd") dispatch(*o, nn::kernels::simd{});
        else dispatch(*o, nn::kernels::tbb{});
    });
}

// after "bench" (order 90), which it attaches to
const registrar reg_bench_network{"bench network", 91, &add_bench_network};

}  // namespace

}  // namespace flowpic::tool
