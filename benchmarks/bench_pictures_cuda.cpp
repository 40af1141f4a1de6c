// The picture stage on the GPU (backend::cuda) against the CPU backends and a CUB baseline,
// under Google Benchmark. One iteration makes the pictures of every block of the workload
// (FLOWPIC_WORKLOAD, else flowpic's synthetic 2,000 blocks of 60 s); counters give blocks and
// packets per second over wall time.
//
//   cuda/<preset>/dense    picture::cuda_maker::for_each_dense_chunk: every picture fully
//                          materialised in pinned host memory, packing and transfers included
//   cuda/<preset>/sparse   picture::cuda_maker::make_sparse_stack: a sparse stack in host memory
//   cub/<preset>/counts    binning with the same formula, then cub::DeviceHistogram::HistogramEven
//                          over block * cells + cell, raw uint32 counts downloaded, one stream
//   cpu/<preset>/dense_full_clear/{simd,tbb}, cpu/<preset>/sparse/{simd,tbb}: the same outputs
//                          on the CPU (tbb over every core)
//
// Without a CUDA device only the CPU cases run (a line on stderr says so).
//
//   flowpic_bench_pictures_cuda --benchmark_filter=shapira2019 --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include "cub_histogram_baseline.hpp"
#include "flowpic/cuda/error.hpp"
#include "flowpic/picture/kernels/cuda.hpp"
#include "flowpic/picture/many_blocks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/flowpic1.hpp"

using namespace flowpic;
namespace pic = flowpic::picture;

namespace {

const source::flowpic1_workload& workload() {
    static const source::flowpic1_workload w = [] {
        const char* f = std::getenv("FLOWPIC_WORKLOAD");
        return f && *f ? source::flowpic1_workload(f) : source::flowpic1_workload::synthetic();
    }();
    return w;
}

void counters(benchmark::State& state) {
    const auto& w = workload();
    const double it = static_cast<double>(state.iterations());
    state.counters["blocks_per_s"] = benchmark::Counter(it * static_cast<double>(w.block_count()), benchmark::Counter::kIsRate);
    state.counters["packets_per_s"] = benchmark::Counter(it * static_cast<double>(w.packet_count()), benchmark::Counter::kIsRate);
}

template <class Preset>
void BM_cuda_dense(benchmark::State& state) {
    using H = typename Preset::picture;
    const auto blocks = workload().blocks();
    pic::cuda_maker<H> gpu;
    typename H::value_type sink{};
    auto f = [&](std::size_t, std::size_t count, std::span<const typename H::value_type> nchw) {
        sink += nchw[(count * 7919) % nchw.size()];
    };
    gpu.for_each_dense_chunk(blocks, f);  // grows the buffers and the value table
    for (auto _ : state) gpu.for_each_dense_chunk(blocks, f);
    benchmark::DoNotOptimize(sink);
    counters(state);
}

template <class Preset>
void BM_cuda_sparse(benchmark::State& state) {
    using H = typename Preset::picture;
    const auto blocks = workload().blocks();
    pic::cuda_maker<H> gpu;
    (void)gpu.make_sparse_stack(blocks);
    for (auto _ : state) {
        auto stack = gpu.make_sparse_stack(blocks);
        benchmark::DoNotOptimize(stack.nnz());
    }
    counters(state);
}

template <class Preset>
void BM_cub(benchmark::State& state) {
    using H = typename Preset::picture;
    const auto blocks = workload().blocks();
    const auto lut = pic::size_lut<typename H::size_axis_type>(H::size_bins);
    const typename H::value_type bg[H::channel_count] = {};
    const auto cfg = pic::cuda_detail::picture_config<H>(lut, bg, pic::cuda_path::automatic, -1);
    cub_baseline* cub = nullptr;
    if (const int s = cub_baseline_create(&cfg, &cub); s) {
        state.SkipWithError(flowpic_cuda_error_string(s));
        return;
    }
    // chunks of at most 64 MB of uint32 counts
    using count_picture = pic::histogram<typename H::resolution_type, typename H::orientation_type, typename H::time_axis_type,
                                         typename H::size_axis_type, pic::counts::raw<std::uint32_t>>;
    const pic::cuda_options limits{};
    std::uint64_t sink = 0;
    int status = 0;
    auto pass = [&] {
        for (std::size_t first = 0; first < blocks.size() && !status;) {
            const auto plan = pic::cuda_detail::plan_chunk<count_picture>(blocks, first, false, limits);
            flowpic_cuda_staging st{};
            if ((status = cub_baseline_stage(cub, plan.end - first, plan.packets, &st))) break;
            pic::cuda_detail::pack<H>(blocks, first, plan.end, lut.data(), st);
            const std::uint32_t* counts = nullptr;
            if ((status = cub_baseline_run(cub, &counts))) break;
            sink += counts[(first * 7919) % ((plan.end - first) * H::cells)];
            first = plan.end;
        }
    };
    pass();
    for (auto _ : state) pass();
    if (status) state.SkipWithError(flowpic_cuda_error_string(status));
    benchmark::DoNotOptimize(sink);
    cub_baseline_destroy(cub);
    counters(state);
}

template <class Preset, class B>
void BM_cpu_dense_full(benchmark::State& state) {
    using H = typename Preset::picture;
    using T = typename H::value_type;
    const auto blocks = workload().blocks();
    T sink{};
    for (auto _ : state) {
        if constexpr (std::is_same_v<B, backend::tbb>) {
            tbb::enumerable_thread_specific<std::pair<pic::maker<H, B>, pic::dense_picture<T>>> local;
            tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks.size(), 16), [&](const auto& r) {
                auto& [m, d] = local.local();
                for (std::size_t i = r.begin(); i != r.end(); ++i) {
                    m.dense(blocks[i], d);
                    benchmark::DoNotOptimize(d.data.data());
                }
            });
        } else {
            pic::maker<H, B> m;
            pic::dense_picture<T> d;
            for (std::size_t i = 0; i < blocks.size(); ++i) {
                m.dense(blocks[i], d);
                sink += d.data[(i * 7919) % d.data.size()];
            }
        }
    }
    benchmark::DoNotOptimize(sink);
    counters(state);
}

template <class Preset, class B>
void BM_cpu_sparse(benchmark::State& state) {
    using H = typename Preset::picture;
    const auto blocks = workload().blocks();
    for (auto _ : state) {
        auto stack = pic::make_sparse_stack<H, B>(blocks);
        benchmark::DoNotOptimize(stack.nnz());
    }
    counters(state);
}

using a1 = presets::shapira2019;
using a2 = presets::mini_flowpic;

template <class F>
void add(const std::string& name, F f) {
    benchmark::RegisterBenchmark(name.c_str(), f)->UseRealTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    int count = 0;
    const int status = flowpic_cuda_device_count(&count);
    if (status == FLOWPIC_CUDA_SUCCESS && count > 0) {
        add("cuda/shapira2019/dense", BM_cuda_dense<a1>);
        add("cuda/shapira2019/sparse", BM_cuda_sparse<a1>);
        add("cub/shapira2019/counts", BM_cub<a1>);
        add("cuda/mini_flowpic32/dense", BM_cuda_dense<a2>);
        add("cuda/mini_flowpic32/sparse", BM_cuda_sparse<a2>);
        add("cub/mini_flowpic32/counts", BM_cub<a2>);
    } else {
        std::fprintf(stderr, "flowpic_bench_pictures_cuda: no CUDA device (status %d: %s): only the CPU cases run\n", status,
                     flowpic_cuda_error_string(status));
    }
    add("cpu/shapira2019/dense_full_clear/simd", BM_cpu_dense_full<a1, backend::simd>);
    add("cpu/shapira2019/dense_full_clear/tbb", BM_cpu_dense_full<a1, backend::tbb>);
    add("cpu/shapira2019/sparse/simd", BM_cpu_sparse<a1, backend::simd>);
    add("cpu/shapira2019/sparse/tbb", BM_cpu_sparse<a1, backend::tbb>);
    add("cpu/mini_flowpic32/dense_full_clear/simd", BM_cpu_dense_full<a2, backend::simd>);
    add("cpu/mini_flowpic32/dense_full_clear/tbb", BM_cpu_dense_full<a2, backend::tbb>);
    add("cpu/mini_flowpic32/sparse/simd", BM_cpu_sparse<a2, backend::simd>);
    add("cpu/mini_flowpic32/sparse/tbb", BM_cpu_sparse<a2, backend::tbb>);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
