// flowpic bench network --preset NAME --mode infer|train --batch B --threads N [--input workload|dense]
// [--workload FILE] [--repeats R] [--min-repeat-s S] [--max-wait S] [--kernels scalar|simd|tbb]
// [--backend scalar|simd|tbb|cuda [--gpu-data device|host]]:
// times the network on FlowPic pictures and prints one line, `key=value` pairs as
// ../shared/peers/cnn_peer.py prints them, with images_per_s= (median over repeats).
//
// --backend cuda (where the tool links flowpic::cuda) runs flowpic's CUDA kernels; the line says
// kernels=cuda and ends with backend=cuda gpu_data=... gpu=NAME. gpu_data=device (the default)
// measures the GPU: the batch is uploaded once and stays in device memory (nn::cuda_network),
// parameters and Adam's moments too; every iteration ends with a synchronisation, and training
// reads back only the loss. gpu_data=host measures what a caller with host pictures sees:
// net.predict(..., backend::cuda{}) / net.gradient(..., backend::cuda{}) upload the batch every
// iteration (and download the outputs or gradients; Adam runs on the host, as for the CPU).
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
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include "commands.hpp"
#include "flowpic/backend/backend.hpp"
#include "flowpic/backend/simd_arch.hpp"
#include "flowpic/config.hpp"
#if FLOWPIC_HAS_CUDA  // the tool links flowpic::cuda where it was built
#include "flowpic/cuda/error.hpp"
#include "flowpic/cuda/nn_context.hpp"
#include "flowpic/nn/cuda_network.hpp"
#endif
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/source/flowpic1.hpp"
#include "options.hpp"

namespace flowpic::tool {

namespace {

struct network_bench_options {
    std::string preset{presets::shapira2019::name}, mode = "infer", input = "workload", workload, kernels = "tbb";
    std::string backend, gpu_data;  // empty: not given
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

// The batch as float32 network input, and its labels.
template <class Net, class Picture>
void make_inputs(const network_bench_options& o, std::vector<float>& x, std::vector<std::int32_t>& labels) {
    constexpr std::size_t size = Net::input_shape.size(), classes = Net::output_shape.size();
    if (o.input == "dense") {
        x.resize(o.batch * size);
        nn::rng r(3);
        for (auto& v : x) v = static_cast<float>(1 + r.below(8));
        labels.resize(o.batch);
        for (std::size_t i = 0; i < o.batch; ++i) labels[i] = static_cast<std::int32_t>(i % std::max<std::size_t>(classes, 2));
    } else {
        x = workload_pictures<Picture>(o, o.batch, size, labels, std::max<std::size_t>(classes, 2));
    }
}

// Times `iteration` (one untimed first call, then repeats of k calls, the median reported) and
// prints the line; `kernels` names what ran, `extra` is appended to the line.
template <class Net, class F>
void time_and_print(const network_bench_options& o, const char* name, double base_rss, const char* kernels,
                    const std::string& extra, F iteration) {
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
                "fwd_gflops=%.2f base_rss_mb=%.0f peak_rss_mb=%.0f bg_cores=%.2f input=%s kernels=%s simd=%s%s\n",
                name, o.mode.c_str(), o.batch, o.threads, ips, static_cast<double>(o.batch) / reps.back(),
                static_cast<double>(o.batch) / reps.front(), med * 1e3, k, o.repeats, first * 1e3,
                2 * macs * ips / 1e9, base_rss, peak_rss_mb(), bgc, o.input.c_str(), kernels,
                backend::simd_arch_name(), extra.c_str());
    std::fflush(stdout);
}

#if FLOWPIC_HAS_CUDA
std::string gpu_name(int device) {
    char name[256] = {};
    if (flowpic_cuda_device_name(device, name, sizeof name) != FLOWPIC_CUDA_SUCCESS) return "unknown";
    std::string s(name);
    for (char& c : s)
        if (c == ' ') c = '_';
    return s;
}

// Fails early, before pictures are made, where the runtime sees no device (a cuda::error).
void require_cuda_device() {
    int count = 0;
    const int status = flowpic_cuda_device_count(&count);
    cuda::throw_if_failed(status, "flowpic_cuda_device_count", flowpic_cuda_error_string(status));
    if (count == 0) cuda::throw_if_failed(FLOWPIC_CUDA_NO_DEVICE, "flowpic_cuda_device_count", nullptr);
}

// gpu_data=device: the batch, labels, parameters and moments stay on the device.
template <class Net, class Picture, class Loss>
void run_bench_device(const network_bench_options& o, const char* name, Loss loss) {
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    constexpr std::size_t size = Net::input_shape.size(), classes = Net::output_shape.size();
    const double base_rss = peak_rss_mb();
    nn::cuda_network<Net> dev(*net);
    std::vector<std::int32_t> labels;
    std::vector<float> x;
    make_inputs<Net, Picture>(o, x, labels);
    cuda::device_array<float> d_x(dev.context(), o.batch * size), d_out(dev.context(), o.batch * classes);
    cuda::device_array<std::int32_t> d_labels(dev.context(), o.batch);
    d_x.upload(x);
    d_labels.upload(labels);
    std::uint64_t step = 0;
    auto iteration = [&] {
        if (o.mode == "train") {
            const nn::run_context ctx{true, 7, step++, 0, 0};
            dev.gradient(d_x.data(), o.batch, d_labels.data(), loss, ctx);  // waits for the loss
            dev.step(nn::adam::options{});
        } else {
            dev.forward(d_x.data(), o.batch, d_out.data());
        }
        dev.synchronize();
    };
    time_and_print<Net>(o, name, base_rss, "cuda", " backend=cuda gpu_data=device gpu=" + gpu_name(dev.context().device()),
                        iteration);
}
#endif

template <class Net, class Picture, class Loss, class K>
void run_bench(const network_bench_options& o, const char* name, Loss loss, K tag) {
    constexpr bool on_gpu = std::is_same_v<K, backend::cuda>;
#if FLOWPIC_HAS_CUDA
    if constexpr (on_gpu) {
        if (o.gpu_data != "host") return run_bench_device<Net, Picture>(o, name, loss);
    }
#endif
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    constexpr std::size_t classes = Net::output_shape.size();
    const double base_rss = peak_rss_mb();
    std::vector<std::int32_t> labels;
    std::vector<float> x;
    make_inputs<Net, Picture>(o, x, labels);
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
    std::string extra;
#if FLOWPIC_HAS_CUDA
    if constexpr (on_gpu) extra = " backend=cuda gpu_data=host gpu=" + gpu_name(0);  // the twin's device: the current one
#endif
    time_and_print<Net>(o, name, base_rss, on_gpu ? "cuda" : o.kernels.c_str(), extra, iteration);
}

template <class K>
void dispatch(const network_bench_options& o, K tag) {
    presets::visit(o.preset, [&](auto p) {
        using P = decltype(p);
        using Net = presets::network_t<P, std::clamp<std::size_t>(5, P::classes.min, P::classes.max)>;
        using Loss = std::conditional_t<Net::head == nn::layer_kind::sigmoid, nn::binary_crossentropy,
                                        nn::categorical_crossentropy>;
        run_bench<Net, typename P::picture>(o, std::string(P::name).c_str(), Loss{}, tag);
    });
}

void add_bench_network(CLI::App& app) {
    CLI::App* bench = nullptr;
    for (auto* s : app.get_subcommands([](CLI::App*) { return true; }))
        if (s->get_name() == "bench") bench = s;
    if (!bench) bench = app.add_subcommand("bench", "Benchmarks");
    auto* cmd = bench->add_subcommand("network", "Time the network (inference or a training step) on FlowPic pictures");
    auto o = std::make_shared<network_bench_options>();
    cmd->add_option("--preset", o->preset, "preset: " + presets::names_list())
        ->capture_default_str();
    cmd->add_option("--mode", o->mode, "infer or train")->check(CLI::IsMember({"infer", "train"}))->capture_default_str();
    add_batch_option(*cmd, o->batch, "pictures per iteration")->capture_default_str();
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
    cmd->add_option("--backend", o->backend,
                    "scalar, simd, tbb (as --kernels) or cuda (flowpic's CUDA kernels, where built with flowpic::cuda)")
        ->check(CLI::IsMember({"scalar", "simd", "tbb", "cuda"}));
    cmd->add_option("--gpu-data", o->gpu_data,
                    "with --backend cuda: device (the batch stays in GPU memory; default) or host (uploaded every "
                    "iteration through backend::cuda)")
        ->check(CLI::IsMember({"device", "host"}));
    cmd->callback([o, cmd] {
        if (!o->backend.empty() && o->backend != "cuda" && cmd->count("--kernels") && o->kernels != o->backend)
            throw std::invalid_argument("--backend " + o->backend + " and --kernels " + o->kernels + " disagree");
        if (!o->gpu_data.empty() && o->backend != "cuda") throw std::invalid_argument("--gpu-data needs --backend cuda");
        if (!o->backend.empty() && o->backend != "cuda") o->kernels = o->backend;
        oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism, o->threads);
        if (o->backend == "cuda") {
#if FLOWPIC_HAS_CUDA
            try {
                require_cuda_device();
                dispatch(*o, backend::cuda{});
            } catch (const cuda::error& e) {
                if (!e.no_device()) throw;
                throw std::runtime_error(std::string("bench network --backend cuda: no CUDA device is usable here (") +
                                         e.what() + ")");
            }
#else
            throw std::invalid_argument("--backend cuda: this flowpic was built without CUDA (flowpic::cuda is built "
                                        "where CMake finds nvcc, with FLOWPIC_ENABLE_CUDA=ON)");
#endif
        } else if (o->kernels == "scalar") dispatch(*o, flowpic::backend::scalar{});
        else if (o->kernels == "simd") dispatch(*o, flowpic::backend::simd{});
        else dispatch(*o, flowpic::backend::tbb{});
    });
}

// after "bench" (order 90), which it attaches to
const registrar reg_bench_network{"bench network", 91, &add_bench_network};

}  // namespace

}  // namespace flowpic::tool
