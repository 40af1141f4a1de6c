// The picture stage (blocks -> FlowPics) under Google Benchmark.
//
// Workload: the FLOWPIC1 file named by FLOWPIC_WORKLOAD (e.g. ../shared/peers/gen_workload.py's
// output), else flowpic's synthetic one (2,000 blocks of 60 s, made in memory). Every benchmark
// iteration makes the picture of one block, cycling through the workload; counters give blocks
// and packets per second. "dense" keeps one reused buffer and resets only the previous block's
// cells; "dense_full_clear" clears all of it per block; "sparse" makes the sorted non-zero cells.
// The tbb benchmarks make every block's picture per iteration, with 1 and 2 threads.
//
//   flowpic_bench_pictures --benchmark_filter=shapira2019 --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include <tbb/global_control.h>

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

void counters(benchmark::State& state, std::size_t blocks, std::size_t packets) {
    state.counters["blocks_per_s"] = benchmark::Counter(static_cast<double>(blocks), benchmark::Counter::kIsRate);
    state.counters["packets_per_s"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}

enum class output { dense, dense_full_clear, sparse };

template <class Preset, class Backend, output Out>
void BM_picture(benchmark::State& state) {
    using H = typename Preset::picture;
    const auto& w = workload();
    pic::maker<H, Backend> m;
    pic::dense_picture<typename H::value_type> d;
    pic::sparse_picture<typename H::value_type> s;
    std::size_t b = 0, blocks = 0, packets = 0;
    for (auto _ : state) {
        const auto blk = w.block(b);
        if constexpr (Out == output::dense) {
            benchmark::DoNotOptimize(m.dense(blk).data.data());
        } else if constexpr (Out == output::dense_full_clear) {
            m.dense(blk, d);
            benchmark::DoNotOptimize(d.data.data());
        } else {
            m.sparse(blk, s);
            benchmark::DoNotOptimize(s.cells.data());
        }
        benchmark::ClobberMemory();
        ++blocks;
        packets += blk.packets.size();
        if (++b == w.block_count()) b = 0;
    }
    counters(state, blocks, packets);
}

template <class Preset, bool Sparse>
void BM_tbb(benchmark::State& state) {
    using H = typename Preset::picture;
    const auto& w = workload();
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(state.range(0)));
    std::size_t blocks = 0;
    for (auto _ : state) {
        if constexpr (Sparse) {
            auto stack = pic::make_sparse_stack<H, backend::tbb>(w.blocks());
            benchmark::DoNotOptimize(stack.nnz());
        } else {
            pic::for_each_dense<H, backend::tbb>(w.blocks(), [](std::size_t, const auto& p) { benchmark::DoNotOptimize(p.data.data()); });
        }
        blocks += w.block_count();
    }
    counters(state, blocks, static_cast<std::size_t>(state.iterations()) * w.packet_count());
}

using a1 = presets::shapira2019;
using a2 = presets::mini_flowpic;
using a2_64 = presets::mini_flowpic64;
using a3 = presets::network_stats;

}  // namespace

BENCHMARK(BM_picture<a1, backend::scalar, output::dense>)->Name("shapira2019/dense/scalar");
BENCHMARK(BM_picture<a1, backend::simd, output::dense>)->Name("shapira2019/dense/simd");
BENCHMARK(BM_picture<a1, backend::simd, output::dense_full_clear>)->Name("shapira2019/dense_full_clear/simd");
BENCHMARK(BM_picture<a1, backend::scalar, output::sparse>)->Name("shapira2019/sparse/scalar");
BENCHMARK(BM_picture<a1, backend::simd, output::sparse>)->Name("shapira2019/sparse/simd");
BENCHMARK(BM_picture<a2, backend::scalar, output::dense>)->Name("mini_flowpic32/dense/scalar");
BENCHMARK(BM_picture<a2, backend::simd, output::dense>)->Name("mini_flowpic32/dense/simd");
BENCHMARK(BM_picture<a2_64, backend::simd, output::dense>)->Name("mini_flowpic64/dense/simd");
BENCHMARK(BM_picture<a3, backend::simd, output::dense>)->Name("network_stats/dense/simd");
BENCHMARK(BM_picture<a3, backend::simd, output::sparse>)->Name("network_stats/sparse/simd");
BENCHMARK(BM_tbb<a1, false>)->Name("shapira2019/dense/tbb")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tbb<a1, true>)->Name("shapira2019/sparse/tbb")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tbb<a2, false>)->Name("mini_flowpic32/dense/tbb")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
