// The network on the GPU (nn::cuda_network, flowpic's own CUDA kernels) against cuDNN + cuBLAS
// and the CPU, under Google Benchmark. Cases are named <impl>/<preset>/<mode>/batch:<n>:
//
//   cuda        nn::cuda_network on a device-resident batch: infer = forward to the
//               probabilities; train = gradient (dropout on, softmax cross-entropy, the loss read
//               back) + Adam step on the device. No transfer but the loss.
//   cuda_host   the same kernels fed from host memory, as a caller without device data sees
//               them: infer = net.predict(x, n, out, backend::cuda{}) (upload, forward,
//               download); train = cuda_network::gradient on host pictures and labels + Adam.
//   cudnn_fp32  the same network from cuDNN and cuBLAS (cudnn_network_baseline.hpp), no tensor
//   cudnn_tf32  cores / TF32 tensor cores allowed; same batch, same shapes, device-resident.
//   cpu_tbb     nn::sequential with backend::tbb on every core (FLOWPIC_BENCH_THREADS=N to cap).
//
// Inputs: FlowPic pictures of flowpic's synthetic FLOWPIC1 workload (as flowpic_bench_network,
// so the CPU rows match it; the CPU's first convolution skips empty rows, the GPU kernels do
// not). Every GPU iteration ends with a synchronisation, so wall time is honest (UseRealTime).
// Counters: images_per_second (and items_per_second), fwd_gflops (2 x forward multiply-adds per
// image x images/s, for training too). After the table, one line per preset/mode/batch gives
// cuda's images/s over each other case's in the same run (console format only; the median
// aggregate with --benchmark_repetitions).
//
// Without a CUDA device only the CPU cases run (a line on stderr says so).
//
//   flowpic_bench_network_cuda --benchmark_filter=shapira2019 --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <oneapi/tbb/global_control.h>

#include "flowpic/cuda/error.hpp"
#include "flowpic/cuda/nn_context.hpp"
#include "flowpic/nn/cuda_network.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/flowpic1.hpp"
#if FLOWPIC_BENCH_CUDNN
#include "cudnn_network_baseline.hpp"
#endif

using namespace flowpic;

namespace {

// Cached state (pictures, device twins, cuDNN plans) is freed here before main returns, while
// the CUDA runtime is still up.
std::vector<std::function<void()>>& cleanups() {
    static std::vector<std::function<void()>> v;
    return v;
}

struct batch_data {
    std::vector<float> x;
    std::vector<std::int32_t> labels;
};

// n pictures of the synthetic workload's blocks (cycling), as float32; labels in [0, 5).
template <class Net, class Picture>
const batch_data& inputs(std::size_t n) {
    static std::map<std::size_t, batch_data> cache;
    if (cache.empty()) cleanups().push_back([] { cache.clear(); });
    auto [it, fresh] = cache.try_emplace(n);
    if (fresh) {
        static const auto w = source::flowpic1_workload::synthetic(256);
        constexpr std::size_t size = Net::input_shape.size();
        picture::maker<Picture> m;
        picture::dense_picture<typename Picture::value_type> d;
        auto& b = it->second;
        b.x.resize(n * size);
        b.labels.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            m.dense(w.block(i % w.block_count()), d);
            for (std::size_t k = 0; k < size; ++k) b.x[i * size + k] = static_cast<float>(d.data[k]);
            b.labels[i] = static_cast<std::int32_t>(w.labels()[i % w.block_count()] % 5);
        }
    }
    return it->second;
}

// One batch on the device: the twin of a freshly initialised network, its input and labels.
template <class Net>
struct gpu_state {
    std::unique_ptr<Net> host = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);  // also cuda_host's twin
    nn::cuda_network<Net> dev{*host};
    cuda::device_array<float> x, out;  // after dev: freed before its context
    cuda::device_array<std::int32_t> labels;
    gpu_state(const batch_data& b, std::size_t n)
        : x(dev.context(), n * Net::input_shape.size()), out(dev.context(), n * Net::output_shape.size()),
          labels(dev.context(), n) {
        x.upload(b.x);
        labels.upload(b.labels);
    }
};

template <class Net, class Picture>
gpu_state<Net>& gpu(std::size_t n) {
    static std::map<std::size_t, std::unique_ptr<gpu_state<Net>>> cache;
    if (cache.empty()) cleanups().push_back([] { cache.clear(); });
    auto& g = cache[n];
    if (!g) g = std::make_unique<gpu_state<Net>>(inputs<Net, Picture>(n), n);
    return *g;
}

void counters(benchmark::State& state, std::size_t n, std::size_t macs) {
    const double images = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<std::int64_t>(images));
    state.counters["images_per_second"] = benchmark::Counter(images, benchmark::Counter::kIsRate);
    state.counters["fwd_gflops"] = benchmark::Counter(2.0 * static_cast<double>(macs) * images / 1e9, benchmark::Counter::kIsRate);
}

// A failure (no device, out of memory) skips the case with its message instead of ending the run.
template <class F>
void guarded(benchmark::State& state, F f) {
    try {
        f();
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
}

template <class Net, class Picture>
void BM_cuda(benchmark::State& state, std::size_t n, bool train) {
    guarded(state, [&] {
        auto& g = gpu<Net, Picture>(n);
        std::uint64_t step = 0;
        auto iteration = [&] {
            if (train) {
                const nn::run_context ctx{true, 1, step++, 0, 0};
                benchmark::DoNotOptimize(g.dev.gradient(g.x.data(), n, g.labels.data(), nn::categorical_crossentropy{}, ctx));
                g.dev.step(nn::adam::options{});
            } else {
                g.dev.forward(g.x.data(), n, g.out.data());
            }
            g.dev.synchronize();
        };
        iteration();  // grows the activation buffers, untimed
        for (auto _ : state) iteration();
        counters(state, n, Net::macs);
    });
}

template <class Net, class Picture>
void BM_cuda_host(benchmark::State& state, std::size_t n, bool train) {
    guarded(state, [&] {
        auto& g = gpu<Net, Picture>(n);
        const auto& b = inputs<Net, Picture>(n);
        std::vector<float> y(n * Net::output_shape.size());
        std::uint64_t step = 0;
        auto iteration = [&] {
            if (train) {
                const nn::run_context ctx{true, 1, step++, 0, 0};
                benchmark::DoNotOptimize(g.dev.gradient(b.x.data(), n, nn::targets{b.labels, {}},
                                                        nn::categorical_crossentropy{}, ctx));
                g.dev.step(nn::adam::options{});
                g.dev.synchronize();
            } else {
                g.host->predict(b.x.data(), n, y.data(), backend::cuda{});  // returns with y on the host
                benchmark::DoNotOptimize(y.data());
            }
        };
        iteration();
        for (auto _ : state) iteration();
        counters(state, n, Net::macs);
    });
}

template <class Net, class Picture>
void BM_cpu(benchmark::State& state, std::size_t n, bool train) {
    guarded(state, [&] {
        auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
        const auto& b = inputs<Net, Picture>(n);
        std::vector<float> y(n * Net::output_shape.size());
        nn::adam opt;
        std::uint64_t step = 0;
        auto iteration = [&] {
            if (train) {
                const nn::run_context ctx{true, 1, step++, 0, 0};
                benchmark::DoNotOptimize(net->gradient(b.x.data(), n, nn::targets{b.labels, {}},
                                                       nn::categorical_crossentropy{}, ctx, flowpic::backend::tbb{}));
                opt.step(net->params(), std::span<const float>(net->grads()));
            } else {
                net->predict(b.x.data(), n, y.data(), flowpic::backend::tbb{});
                benchmark::DoNotOptimize(y.data());
            }
        };
        iteration();
        for (auto _ : state) iteration();
        counters(state, n, Net::macs);
    });
}

#if FLOWPIC_BENCH_CUDNN
// The network's layers as the baseline's list (the same shapes, read from the bound layers).
template <class L>
void add_layer(std::vector<cudnn_baseline_layer>& v) {
    cudnn_baseline_layer l{};
    l.c = static_cast<std::uint32_t>(L::in.c);
    l.h = static_cast<std::uint32_t>(L::in.h);
    l.w = static_cast<std::uint32_t>(L::in.w);
    constexpr auto kind = L::kind;
    if constexpr (kind == nn::layer_kind::conv2d) {
        constexpr auto g = L::geo;
        l.kind = CUDNN_BASELINE_CONV;
        l.conv = {static_cast<std::uint32_t>(g.c),  static_cast<std::uint32_t>(g.h),  static_cast<std::uint32_t>(g.w),
                  static_cast<std::uint32_t>(g.f),  static_cast<std::uint32_t>(g.kh), static_cast<std::uint32_t>(g.kw),
                  static_cast<std::uint32_t>(g.sh), static_cast<std::uint32_t>(g.sw), static_cast<std::uint32_t>(g.pt),
                  static_cast<std::uint32_t>(g.pl), static_cast<std::uint32_t>(g.oh), static_cast<std::uint32_t>(g.ow)};
    } else if constexpr (kind == nn::layer_kind::max_pool2d) {
        constexpr auto g = L::geo;
        l.kind = CUDNN_BASELINE_MAX_POOL;
        l.pool = {static_cast<std::uint32_t>(g.c), static_cast<std::uint32_t>(g.h), static_cast<std::uint32_t>(g.w),
                  static_cast<std::uint32_t>(g.k), static_cast<std::uint32_t>(g.s), static_cast<std::uint32_t>(g.oh),
                  static_cast<std::uint32_t>(g.ow)};
    } else if constexpr (kind == nn::layer_kind::relu) {
        l.kind = CUDNN_BASELINE_RELU;
    } else if constexpr (kind == nn::layer_kind::dropout || kind == nn::layer_kind::dropout2d) {
        l.kind = CUDNN_BASELINE_DROPOUT;
        l.rate = static_cast<float>(L::rate);
    } else if constexpr (kind == nn::layer_kind::flatten) {
        l.kind = CUDNN_BASELINE_FLATTEN;
    } else if constexpr (kind == nn::layer_kind::dense) {
        l.kind = CUDNN_BASELINE_DENSE;
        l.units = static_cast<std::uint32_t>(L::units);
    } else if constexpr (kind == nn::layer_kind::softmax) {
        l.kind = CUDNN_BASELINE_SOFTMAX;
    } else {
        static_assert(kind == nn::layer_kind::softmax, "bench_network_cuda: no cuDNN baseline for this layer kind");
    }
    v.push_back(l);
}

template <class Net>
std::vector<cudnn_baseline_layer> baseline_layers() {
    std::vector<cudnn_baseline_layer> v;
    []<class... S>(std::vector<cudnn_baseline_layer>& out, nn::type_list<S...>) {
        (add_layer<typename S::layer>(out), ...);
    }(v, typename Net::slots{});
    return v;
}

void check(int status, const char* what) {
    if (status) throw std::runtime_error(std::string(what) + ": " + cudnn_baseline_status_string(status));
}

using baseline_ptr = std::unique_ptr<cudnn_baseline, void (*)(cudnn_baseline*)>;

template <class Net, class Picture>
cudnn_baseline& baseline(std::size_t n, bool tf32) {
    static std::map<std::pair<std::size_t, bool>, baseline_ptr> cache;
    if (cache.empty()) cleanups().push_back([] { cache.clear(); });
    auto it = cache.find({n, tf32});
    if (it == cache.end()) {
        const auto layers = baseline_layers<Net>();
        cudnn_baseline* b = nullptr;
        check(cudnn_baseline_create(layers.data(), layers.size(), n, tf32, &b), "cudnn_baseline_create");
        baseline_ptr p(b, cudnn_baseline_destroy);
        if (cudnn_baseline_param_count(b) != Net::param_count)
            throw std::runtime_error("cudnn baseline: " + std::to_string(cudnn_baseline_param_count(b)) +
                                     " parameters, the network has " + std::to_string(Net::param_count));
        const auto& in = inputs<Net, Picture>(n);
        check(cudnn_baseline_upload(b, in.x.data(), in.labels.data()), "cudnn_baseline_upload");
        it = cache.emplace(std::make_pair(n, tf32), std::move(p)).first;
    }
    return *it->second;
}

template <class Net, class Picture>
void BM_cudnn(benchmark::State& state, std::size_t n, bool train, bool tf32) {
    guarded(state, [&] {
        auto& b = baseline<Net, Picture>(n, tf32);
        double loss = 0;
        auto iteration = [&] {
            check(train ? cudnn_baseline_train_step(&b) : cudnn_baseline_forward(&b), "cudnn baseline pass");
            check(cudnn_baseline_synchronize(&b, &loss), "cudnn_baseline_synchronize");
        };
        iteration();
        for (auto _ : state) iteration();
        benchmark::DoNotOptimize(loss);
        counters(state, n, Net::macs);
    });
}
#endif

// Console output plus, at the end, the ratios of each preset/mode/batch's images/s in this run
// (the median aggregate where --benchmark_repetitions asks for one).
class ratio_reporter : public benchmark::ConsoleReporter {
public:
    ratio_reporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Color : OO_None) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& r : runs) {
            const auto c = r.counters.find("images_per_second");
            if (c == r.counters.end()) continue;  // skipped or failed
            const auto& name = r.run_name.function_name;
            if (!seen_.count(name)) order_.push_back(name);
            auto& e = seen_[name];
            if (r.run_type == Run::RT_Aggregate) {
                if (r.aggregate_name == "median") e.median = c->second.value;
            } else {
                e.values.push_back(c->second.value);
            }
        }
    }

    void Finalize() override {
        // impl/preset/mode/batch:n -> the group preset/mode/batch:n, in order of appearance
        std::vector<std::string> groups;
        std::map<std::string, std::map<std::string, double>> by_group;
        for (const auto& name : order_) {
            const auto slash = name.find('/');
            if (slash == std::string::npos) continue;
            const std::string group = name.substr(slash + 1), impl = name.substr(0, slash);
            if (!by_group.count(group)) groups.push_back(group);
            by_group[group][impl] = seen_[name].value();
        }
        auto& out = GetOutputStream();
        bool header = false;
        for (const auto& g : groups) {
            const auto& v = by_group[g];
            const auto cuda = v.find("cuda");
            if (cuda == v.end() || !(cuda->second > 0)) continue;  // no GPU, or filtered out
            if (!header) out << "\nimages/s of cuda (flowpic's kernels, device-resident batch) over the others, this run:\n";
            header = true;
            char line[512];
            int k = std::snprintf(line, sizeof line, "%-34s cuda %9.6g/s", g.c_str(), cuda->second);
            for (const char* other : {"cpu_tbb", "cudnn_fp32", "cudnn_tf32", "cuda_host"}) {
                const auto o = v.find(other);
                if (o != v.end() && o->second > 0 && k > 0 && k < static_cast<int>(sizeof line))
                    k += std::snprintf(line + k, sizeof line - static_cast<std::size_t>(k), "  %7.3gx %s", cuda->second / o->second,
                                       other);
            }
            out << line << "\n";
        }
        ConsoleReporter::Finalize();
    }

private:
    struct entry {
        std::vector<double> values;
        std::optional<double> median;
        [[nodiscard]] double value() const {
            if (median) return *median;
            if (values.empty()) return 0;
            auto v = values;
            std::sort(v.begin(), v.end());
            return v[v.size() / 2];
        }
    };
    std::map<std::string, entry> seen_;
    std::vector<std::string> order_;  // of appearance
};

template <class F>
void add(const std::string& name, F f) {
    benchmark::RegisterBenchmark(name.c_str(), f)->UseRealTime()->Unit(benchmark::kMillisecond);
}

template <class Net, class Picture>
void add_preset(const std::string& preset, std::initializer_list<std::size_t> batches, bool gpu) {
    for (const bool train : {false, true}) {
        for (const std::size_t n : batches) {
            const std::string tail = "/" + preset + (train ? "/train" : "/infer") + "/batch:" + std::to_string(n);
            if (gpu) {
                add("cuda" + tail, [=](benchmark::State& s) { BM_cuda<Net, Picture>(s, n, train); });
                add("cuda_host" + tail, [=](benchmark::State& s) { BM_cuda_host<Net, Picture>(s, n, train); });
#if FLOWPIC_BENCH_CUDNN
                add("cudnn_fp32" + tail, [=](benchmark::State& s) { BM_cudnn<Net, Picture>(s, n, train, false); });
                add("cudnn_tf32" + tail, [=](benchmark::State& s) { BM_cudnn<Net, Picture>(s, n, train, true); });
#endif
            }
            add("cpu_tbb" + tail, [=](benchmark::State& s) { BM_cpu<Net, Picture>(s, n, train); });
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    bool console = true;  // the ratio lines go with the console table only
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.rfind("--benchmark_format=", 0) == 0 && a != "--benchmark_format=console") console = false;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    std::optional<oneapi::tbb::global_control> threads;
    if (const char* e = std::getenv("FLOWPIC_BENCH_THREADS"); e && std::atoi(e) > 0)
        threads.emplace(oneapi::tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(std::atoi(e)));

    int count = 0;
    const int status = flowpic_cuda_device_count(&count);
    const bool gpu = status == FLOWPIC_CUDA_SUCCESS && count > 0;
    if (gpu) {
        char name[256] = {};
        if (flowpic_cuda_device_name(0, name, sizeof name) == FLOWPIC_CUDA_SUCCESS) benchmark::AddCustomContext("gpu", name);
#if !FLOWPIC_BENCH_CUDNN
        std::fprintf(stderr, "flowpic_bench_network_cuda: built without cuDNN: no cudnn_* baseline cases\n");
#endif
    } else {
        std::fprintf(stderr, "flowpic_bench_network_cuda: no CUDA device (status %d: %s): only the CPU cases run\n", status,
                     flowpic_cuda_error_string(status));
    }
    add_preset<nn::networks::shapira2019<5>, presets::shapira2019::picture>("shapira2019", {1, 32}, gpu);
    add_preset<nn::networks::mini_flowpic<5>, presets::mini_flowpic::picture>("mini_flowpic", {128, 1024}, gpu);

    if (console) {
        ratio_reporter reporter;
        benchmark::RunSpecifiedBenchmarks(&reporter);
    } else {
        benchmark::RunSpecifiedBenchmarks();
    }
    for (auto& f : cleanups()) f();
    benchmark::Shutdown();
    return 0;
}
