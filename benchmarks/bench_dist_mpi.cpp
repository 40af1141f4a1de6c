// Distributed training's communication against its computation, under mpirun -n N: per network
// (shapira2019, mini_flowpic; 5 classes, their presets' batches) the time of one batch's
// gradient on this rank alone (compute), of this rank's share of the gradient groups
// (train/data_parallel.hpp), of the exact ordered reduction train::fit uses (all_gather of the
// groups, summed in group order), and of a plain MPI_Allreduce of the parameters for comparison.
// Rank 0 prints the medians and the projection compute / (compute / N + reduction). Not a Google
// Benchmark program: every rank must run the same collectives in step.
//   mpirun -n 2 build/ci/benchmarks/flowpic_bench_dist_mpi [reps]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include <mpi.h>

#include "flowpic/dist/collectives.hpp"
#include "flowpic/dist/mpi.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/random.hpp"
#include "flowpic/train/data_parallel.hpp"

namespace {

using namespace flowpic;
using clock_type = std::chrono::steady_clock;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <class Net>
void measure(const char* name, std::size_t batch, int reps, dist::mpi& comm) {
    constexpr std::size_t P = Net::param_count;
    auto net = std::make_unique<Net>(nn::init_scheme::glorot_uniform, 1);
    std::vector<float> x(batch * Net::input_shape.size());
    nn::rng r(7);
    for (auto& v : x) v = static_cast<float>(r.below(4));  // small counts, mostly zero-free
    std::vector<std::int32_t> labels(batch);
    for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<std::int32_t>(i % 5);
    const nn::targets t{labels, {}};
    const nn::categorical_crossentropy loss{};
    using executor = nn::executor_t<Net, backend::tbb>;
    const std::size_t ranks = static_cast<std::size_t>(comm.size()), me = static_cast<std::size_t>(comm.rank());
    const std::size_t G = executor::group_count(batch), chunks = executor::chunks_of(batch);
    std::vector<std::size_t> which;
    for (std::size_t g = me; g < G; g += ranks) which.push_back(g);
    std::vector<float> mine(which.size() * P + 2 * chunks), sum(P);
    std::vector<double> losses(chunks);
    std::vector<double> full, share, gather, allreduce;
    for (int k = 0; k < reps + 1; ++k) {  // the first round warms up
        const nn::run_context ctx{true, 1, static_cast<std::uint64_t>(k), 0, 0};
        MPI_Barrier(comm.native());
        auto t0 = clock_type::now();
        (void)net->gradient(x.data(), batch, t, loss, ctx);
        auto t1 = clock_type::now();
        MPI_Barrier(comm.native());
        auto t2 = clock_type::now();
        auto& ex = nn::executor_for(*net, backend::tbb{});
        ex.group_gradients(*net, x.data(), batch, t, loss, 1.0, ctx, which, mine.data(), losses.data(), backend::tbb{});
        auto t3 = clock_type::now();
        MPI_Barrier(comm.native());
        auto t4 = clock_type::now();
        std::vector<std::size_t> counts;
        const auto all = dist::all_gather<float>(comm, mine, &counts);
        std::fill(sum.begin(), sum.end(), 0.0f);
        for (std::size_t g = 0; g < G; ++g) {
            std::size_t start = 0;
            for (std::size_t q = 0; q < g % ranks; ++q) start += counts[q];
            const float* part = all.data() + start + (g / ranks) * P;
            for (std::size_t i = 0; i < P; ++i) sum[i] += part[i];
        }
        auto t5 = clock_type::now();
        MPI_Barrier(comm.native());
        auto t6 = clock_type::now();
        MPI_Allreduce(MPI_IN_PLACE, sum.data(), static_cast<int>(P), MPI_FLOAT, MPI_SUM, comm.native());
        auto t7 = clock_type::now();
        if (k == 0) continue;
        const auto s = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
        full.push_back(s(t0, t1));
        share.push_back(s(t2, t3));
        gather.push_back(s(t4, t5));
        allreduce.push_back(s(t6, t7));
    }
    if (me != 0) return;
    const double c = median(full), g = median(gather), a = median(allreduce);
    std::printf("%-13s %8.2f MB  batch %3zu  groups %zu  compute %8.2f ms  share %8.2f ms  ordered gather+sum %7.3f ms  "
                "allreduce %7.3f ms  projected speed-up at N=%zu: %.2fx (ordered), %.2fx (allreduce)\n",
                name, double(P) * 4 / 1e6, batch, G, c * 1e3, median(share) * 1e3, g * 1e3, a * 1e3, ranks,
                c / (c / double(std::min(ranks, G)) + g), c / (c / double(ranks) + a));
}

}  // namespace

int main(int argc, char** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 10;
    dist::mpi comm;
    if (comm.rank() == 0) std::printf("flowpic_bench_dist_mpi: %d ranks, %d repetitions (medians)\n", comm.size(), reps);
    measure<nn::networks::shapira2019<5>>("shapira2019", 128, reps, comm);
    measure<nn::networks::mini_flowpic<5>>("mini_flowpic", 32, reps, comm);
    return 0;
}
