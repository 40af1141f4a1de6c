#pragma once
// Synchronous data-parallel training steps (train::fit with a communicator of several ranks,
// dist/communicator.hpp). The simd executor already sums a batch's gradient over a fixed tree:
// G groups of chunks, each summed in order, then the groups in order (nn/executor/simd.hpp).
// Here group g is computed by rank g mod size, every rank receives every group (all_gather, in
// rank order) and adds them in group order, so the gradient, the loss and therefore the model are
// those of one process, bit for bit, for any number of ranks. Sparse batches (1500x1500 pictures)
// take the sparse executor's tree, as one process does. Each rank fills only the samples of its
// chunks of a dense batch. At most G (8) ranks share a batch; more ranks leave some idle.

#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/dist/collectives.hpp"
#include "flowpic/nn/executor/executor.hpp"
#include "flowpic/nn/executor/sparse.hpp"
#include "flowpic/nn/loss.hpp"

namespace flowpic::train::detail {

template <class E>
concept grouped_gradient = requires(std::size_t n) {
    { E::chunks_of(n) } -> std::convertible_to<std::size_t>;
    { E::group_count(n) } -> std::convertible_to<std::size_t>;
};

template <class Net, class Optimizer, class K, class C>
struct data_parallel_session {
    Net& net;
    Optimizer& opt;
    K tag;
    C& comm;
    using executor = nn::executor_t<Net, K>;
    static_assert(grouped_gradient<executor>,
                  "train::fit on several ranks needs the simd executor (backend::simd or backend::tbb)");
    std::vector<float> mine;
    std::vector<std::size_t> counts;
    std::vector<float> dense;  // a sparse batch with a background, densified

    [[nodiscard]] std::size_t ranks() const { return static_cast<std::size_t>(comm.size()); }
    [[nodiscard]] std::size_t rank() const { return static_cast<std::size_t>(comm.rank()); }

    // Whether sample k of a dense batch of n belongs to one of this rank's groups (sparse batches
    // are filled whole: their samples are cells, cheap to copy).
    [[nodiscard]] bool needs(std::size_t k, std::size_t n) const {
        const std::size_t c = k / executor::chunk;
        return (c % executor::group_count(n)) % ranks() == rank();
    }

    template <class B, class Loss>
    double step(const B& b, const nn::targets& t, const Loss& loss, const nn::run_context& ctx) {
        const std::size_t n = b.n;
        if (n == 0) return 0.0;
        const double norm = Loss::normalizer(t, n);
        if (!(norm > 0)) throw std::invalid_argument("nn::sequential::gradient: the class weights of the batch sum to 0");
        // the executor and the tree that one process would use for this batch (nn/executor/sparse.hpp)
        if constexpr (nn::prefers_sparse_input<Net> && nn::sparse_backend(K{})) {
            if (b.sparse) {
                if (b.sx.zero_background()) {
                    using sparse_t = nn::sparse_executor_t<Net, K>;
                    auto& ex = nn::sparse_executor_for(net, tag);
                    return reduce<sparse_t>(n, norm, [&](std::span<const std::size_t> which, float* out, double* l) {
                        ex.group_gradients(net, b.sx, t, loss, norm, ctx, which, out, l, tag);
                    });
                }
                dense.resize(n * b.sx.sample_size());
                b.sx.densify(dense.data(), 0, n);
                return dense_step(dense.data(), n, t, loss, norm, ctx);
            }
        }
        return dense_step(b.x.data(), n, t, loss, norm, ctx);
    }
    Net& evaluator() { return net; }
    void snapshot(std::vector<typename Net::value_type>& best) {
        const auto p = std::as_const(net).params();
        best.assign(p.begin(), p.end());
    }
    void finish(const std::vector<typename Net::value_type>* best) {
        if (best) std::copy(best->begin(), best->end(), net.params().begin());
    }

private:
    template <class Loss>
    double dense_step(const float* x, std::size_t n, const nn::targets& t, const Loss& loss, double norm,
                      const nn::run_context& ctx) {
        auto& ex = nn::executor_for(net, tag);
        return reduce<executor>(n, norm, [&](std::span<const std::size_t> which, float* out, double* l) {
            ex.group_gradients(net, x, n, t, loss, norm, ctx, which, out, l, tag);
        });
    }

    // This rank computes groups rank, rank + ranks, ... of E's tree; every rank receives every
    // group (all_gather, in rank order) and adds them in group order, then takes the step.
    template <class E, class Compute>
    double reduce(std::size_t n, double norm, Compute&& compute) {
        constexpr std::size_t P = Net::param_count;
        const std::size_t G = E::group_count(n), chunks = E::chunks_of(n);
        std::vector<std::size_t> which;
        for (std::size_t g = rank(); g < G; g += ranks()) which.push_back(g);
        // this rank's groups, then the losses of every chunk (zero where another rank has it)
        const std::size_t floats = which.size() * P, doubles = chunks;
        mine.assign(floats + 2 * doubles, 0.0f);
        std::vector<double> losses(chunks, 0.0);
        compute(std::span<const std::size_t>(which), mine.data(), losses.data());
        std::memcpy(mine.data() + floats, losses.data(), doubles * sizeof(double));
        const auto all = dist::all_gather<float>(comm, mine, &counts);
        std::vector<std::size_t> start(ranks(), 0);
        for (std::size_t r = 1; r < ranks(); ++r) start[r] = start[r - 1] + counts[r - 1];
        auto grads = net.grads();
        std::fill(grads.begin(), grads.end(), 0.0f);
        for (std::size_t g = 0; g < G; ++g) {
            const float* part = all.data() + start[g % ranks()] + (g / ranks()) * P;
            for (std::size_t i = 0; i < P; ++i) grads[i] += part[i];
        }
        double sum = 0;
        for (std::size_t c = 0; c < chunks; ++c) {
            const std::size_t r = (c % G) % ranks();
            const std::size_t groups_of_r = (G - r + ranks() - 1) / ranks();  // r < G: it owns chunk c's group
            double l;
            std::memcpy(&l, all.data() + start[r] + groups_of_r * P + 2 * c, sizeof l);
            sum += l;
        }
        opt.step(net.params(), std::span<const typename Net::value_type>(net.grads()));
        return sum / norm;
    }
};

}  // namespace flowpic::train::detail
