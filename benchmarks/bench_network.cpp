// The network: inference and training steps of the presets on FlowPic pictures of the synthetic
// FLOWPIC1 workload (the peers' inputs), on the default backend (tbb: the simd kernels on all
// threads; --threads N via TBB's global control: FLOWPIC_BENCH_THREADS, default 2, as the peers
// run). Counter images_per_s. Side by side with PyTorch: benchmarks/peers/compare_network.sh.
// The */sparse cases feed the same pictures as nn::sparse_batch (the sparse first convolution,
// nn/executor/sparse.hpp); the others dense, as before. Counter nnz_per_image: mean non-zero cells.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <sys/resource.h>
#include <memory>
#include <vector>

#include <oneapi/tbb/global_control.h>

#include "flowpic/nn/optimizer.hpp"
#include "flowpic/train/dataset.hpp"
#include "flowpic/train/trainer.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/nn/sparse_input.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/flowpic1.hpp"

namespace {

using namespace flowpic;

oneapi::tbb::global_control& threads() {
    const char* e = std::getenv("FLOWPIC_BENCH_THREADS");
    static oneapi::tbb::global_control gc(oneapi::tbb::global_control::max_allowed_parallelism,
                                          e ? static_cast<std::size_t>(std::atoi(e)) : 2);
    return gc;
}

template <class Picture>
std::vector<float> pictures(std::size_t n, std::size_t size, std::vector<std::int32_t>& labels) {
    static const auto w = source::flowpic1_workload::synthetic(256);
    picture::maker<Picture> m;
    picture::dense_picture<typename Picture::value_type> d;
    std::vector<float> x(n * size);
    labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        m.dense(w.block(i % w.block_count()), d);
        for (std::size_t k = 0; k < size; ++k) x[i * size + k] = static_cast<float>(d.data[k]);
        labels[i] = w.labels()[i % w.block_count()] % 5;
    }
    return x;
}

template <class Picture>
nn::sparse_batch sparse_pictures(std::size_t n, std::vector<std::int32_t>& labels) {
    static const auto w = source::flowpic1_workload::synthetic(256);
    picture::maker<Picture> m;
    picture::sparse_picture<typename Picture::value_type> p;
    nn::sparse_batch x;
    labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        m.sparse(w.block(i % w.block_count()), p);
        x.push_back(p);
        labels[i] = w.labels()[i % w.block_count()] % 5;
    }
    return x;
}

template <class Net, class Picture>
void infer_sparse(benchmark::State& state) {
    threads();
    const auto n = static_cast<std::size_t>(state.range(0));
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    std::vector<std::int32_t> labels;
    const auto x = sparse_pictures<Picture>(n, labels);
    std::vector<float> y(n * Net::output_shape.size());
    for (auto _ : state) {
        net->predict(x, y.data());
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
    state.counters["nnz_per_image"] = static_cast<double>(x.nnz()) / static_cast<double>(n);
}

template <class Net, class Picture>
void train_sparse(benchmark::State& state) {
    threads();
    const auto n = static_cast<std::size_t>(state.range(0));
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    std::vector<std::int32_t> labels;
    const auto x = sparse_pictures<Picture>(n, labels);
    nn::adam opt;
    std::uint64_t step = 0;
    for (auto _ : state) {
        const nn::run_context ctx{true, 1, step++, 0, 0};
        benchmark::DoNotOptimize(net->gradient(x, nn::targets{labels, {}}, nn::categorical_crossentropy{}, ctx));
        opt.step(net->params(), std::span<const float>(net->grads()));
    }
    state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
    state.counters["nnz_per_image"] = static_cast<double>(x.nnz()) / static_cast<double>(n);
}

// One epoch of train::fit on `range(0)` pictures held sparse (a sparse_dataset, as the tool's
// datasets hold them), batch 32. Counter peak_rss_mb: the process's peak resident memory, so run
// this case alone (--benchmark_filter=fit).
template <class Net, class Picture>
void fit_sparse(benchmark::State& state) {
    threads();
    const auto n = static_cast<std::size_t>(state.range(0));
    static const auto w = source::flowpic1_workload::synthetic(256);
    picture::maker<Picture> m;
    picture::sparse_picture<typename Picture::value_type> p;
    picture::sparse_stack<typename Picture::value_type> stack;
    std::vector<std::int32_t> labels(n);
    for (std::size_t i = 0; i < n; ++i) {
        m.sparse(w.block(i % w.block_count()), p);
        stack.push_back(p);
        labels[i] = w.labels()[i % w.block_count()] % 5;
    }
    const train::sparse_dataset<typename Picture::value_type> data(std::move(stack), std::move(labels));
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    nn::adam opt;
    train::fit_options o;
    o.epochs = 1;
    o.batch = 32;
    for (auto _ : state)
        benchmark::DoNotOptimize(train::fit(*net, data, static_cast<const decltype(data)*>(nullptr),
                                            nn::categorical_crossentropy{}, opt, o));
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
    state.counters["peak_rss_mb"] = static_cast<double>(ru.ru_maxrss) / 1024.0;
}

template <class Net, class Picture>
void infer(benchmark::State& state) {
    threads();
    const auto n = static_cast<std::size_t>(state.range(0));
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    std::vector<std::int32_t> labels;
    const auto x = pictures<Picture>(n, Net::input_shape.size(), labels);
    std::vector<float> y(n * Net::output_shape.size());
    for (auto _ : state) {
        net->predict(x.data(), n, y.data());
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
}

template <class Net, class Picture>
void train(benchmark::State& state) {
    threads();
    const auto n = static_cast<std::size_t>(state.range(0));
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    std::vector<std::int32_t> labels;
    const auto x = pictures<Picture>(n, Net::input_shape.size(), labels);
    nn::adam opt;
    std::uint64_t step = 0;
    for (auto _ : state) {
        const nn::run_context ctx{true, 1, step++, 0, 0};
        benchmark::DoNotOptimize(net->gradient(x.data(), n, nn::targets{labels, {}}, nn::categorical_crossentropy{}, ctx));
        opt.step(net->params(), std::span<const float>(net->grads()));
    }
    state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(n * state.iterations()), benchmark::Counter::kIsRate);
}

using shapira = nn::networks::shapira2019<5>;
using shapira_pictures = presets::shapira2019::picture;
using mini = nn::networks::mini_flowpic<5>;
using mini_pictures = presets::mini_flowpic::picture;

BENCHMARK(infer<shapira, shapira_pictures>)->Name("shapira2019/infer")->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(train<shapira, shapira_pictures>)->Name("shapira2019/train")->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(infer_sparse<shapira, shapira_pictures>)->Name("shapira2019/infer/sparse")->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(train_sparse<shapira, shapira_pictures>)->Name("shapira2019/train/sparse")->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(fit_sparse<shapira, shapira_pictures>)->Name("shapira2019/fit/sparse")->Arg(10000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(infer<mini, mini_pictures>)->Name("mini_flowpic/infer")->Arg(1)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(train<mini, mini_pictures>)->Name("mini_flowpic/train")->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
