#pragma once
// Running a network on sparse input (nn::sparse_batch), chosen by tag overload like the dense
// executors (nn/executor/executor.hpp):
//
//   backend::simd, tbb -> sparse_executor      (a nn::sparse_network: the first convolution
//                                               scatters the cells, nn/kernels/sparse_conv.hpp)
//   backend::scalar    -> densifying_executor  (densify, then the oracle)
//   backend::cuda      -> densifying_executor  (densify, then the device)
//
// sparse_executor computes the first stage (convolution, ReLU, pooling) from the cells and
// hands its dense output to the engine for the rest, forward and backward (the first stage
// needs no input gradient). At inference, when the second stage is a convolution too, it also
// computes that one sparsely: only the outputs whose windows the cells reached differ from the
// output of the constant map. Samples run in chunks of a size fixed by the network, gradients
// sum in a fixed order, so results do not depend on the thread count. A batch with a non-zero
// background (download fractions) is densified and run by the dense executor of the same tag.

#include <algorithm>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>

#include "flowpic/backend/backend.hpp"
#include "flowpic/nn/engine.hpp"
#include "flowpic/nn/executor/executor.hpp"
#include "flowpic/nn/kernels/sparse_conv.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/loss.hpp"
#include "flowpic/nn/sparse_input.hpp"
#include "flowpic/nn/stages.hpp"

namespace flowpic::nn {

namespace detail {

template <class Net, std::size_t I>
using stage_of = typename type_at<I, typename Net::stages>::type;

template <class Net>
consteval bool sparse_first_stage() {
    if constexpr (!std::is_same_v<typename Net::value_type, float> || Net::stages::size < 3) return false;
    else if constexpr (!stage_of<Net, 0>::conv) return false;
    else return !stage_of<Net, 0>::dropout;
}
template <class Net>
consteval bool sparse_second_stage() {
    if constexpr (!sparse_first_stage<Net>()) return false;
    else if constexpr (!stage_of<Net, 1>::conv) return false;
    else return true;
}

template <class Net, bool = sparse_second_stage<Net>()>
struct second_kernel {
    using type = int;  // none
};
template <class Net>
struct second_kernel<Net, true> {
    using type = kernels::sparse::second_conv<stage_of<Net, 1>::layer::out.c, stage_of<Net, 1>::in.c>;
};

}  // namespace detail

// A network whose first stage the sparse kernels compute: float, a convolution first, followed
// by ReLU and max-pooling only (no dropout), and at least one more stage before the head.
template <class Net>
concept sparse_network = requires {
    typename Net::value_type;
    typename Net::stages;
} && detail::sparse_first_stage<Net>();

// The backends that run sparse batches with the sparse kernels (the others densify them).
constexpr bool sparse_backend(backend::requires_backend<backend::scalar>) { return false; }
constexpr bool sparse_backend(backend::requires_backend<backend::simd>) { return true; }
constexpr bool sparse_backend(backend::requires_backend<backend::cuda>) { return false; }

// Pictures large enough that the sparse path pays on a network that has one (256 x 256 cells
// and more); the pipeline and the trainer feed such networks sparse batches.
template <class Net>
inline constexpr bool prefers_sparse_input = [] {
    if constexpr (sparse_network<Net>) return Net::input_shape.h * Net::input_shape.w >= 256 * 256;
    else return false;
}();

template <class Net>
class sparse_executor {
    using engine_t = detail::engine<typename Net::stages>;
    template <std::size_t I>
    using stage_t = typename engine_t::template stage<I>;
    using S0 = stage_t<0>;
    static constexpr bool second = detail::sparse_second_stage<Net>();
    static constexpr std::size_t osz = Net::output_shape.size();

public:
    // Samples per chunk at inference, and in training about 4 M multiply-adds after the first stage.
    static constexpr std::size_t chunk = 16;
    static constexpr std::size_t train_chunk = [] {
        constexpr std::size_t rest = Net::macs - S0::layer::macs;
        return std::clamp<std::size_t>(4'000'000 / (rest ? rest : 1), 1, 64);
    }();
    static constexpr std::size_t gradient_groups = 8;

    void load(const Net& net) {
        const float* p = std::as_const(net).params().data();
        engine_.prepare(p);
        first_.prepare(S0::layer::geo, S0::pool_stride, S0::relu, p + S0::offset, p + S0::offset + S0::layer::weight_count);
        if constexpr (second) {
            using S1 = stage_t<1>;
            second_.prepare(S1::layer::geo, S1::pool_stride, S1::relu, p + S1::offset,
                            p + S1::offset + S1::layer::weight_count, first_.constants());
        }
    }

    template <backend::backend_tag B>
    void forward(Net& net, const sparse_batch& x, float* out, const run_context& ctx, B tag) {
        if (!x.zero_background()) return densified(net, x, tag).forward(net, dense_.data(), x.size(), out, ctx, tag);
        const float* p = std::as_const(net).params().data();
        const std::size_t n = x.size();
        for_each((n + chunk - 1) / chunk, [&](std::size_t c) {
            auto& w = workspaces_.local();
            const std::size_t s0 = c * chunk, m = std::min(chunk, n - s0);
            run_context cc = ctx;
            cc.sample_base = ctx.sample_base + s0;
            const float* y = nullptr;
            if constexpr (second) {
                if (!ctx.training) {
                    float* x2 = engine_t::sized(w.map, m * second_.out_size() + detail::slack);
                    for (std::size_t s = 0; s < m; ++s) {
                        first_.forward(x.cells(s0 + s), x.values(s0 + s), w.fs);
                        second_.forward(w.fs, w.ss, x2 + s * second_.out_size());
                        first_.release(w.fs);
                    }
                    y = engine_.forward_from(2, p, x2, m, cc, w.ews);
                }
            }
            if (!y) y = engine_.forward_from(1, p, first_stage(x, s0, m, w), m, cc, w.ews);
            std::copy(y, y + m * osz, out + s0 * osz);
        }, tag);
    }

    template <class Loss, backend::backend_tag B>
    double gradient(Net& net, const sparse_batch& x, const targets& t, const Loss& loss_fn, double norm,
                    const run_context& ctx, B tag) {
        const std::size_t n = x.size();
        if (!x.zero_background()) {
            auto& dense = densified(net, x, tag);
            return dense.gradient(net, dense_.data(), n, t, loss_fn, norm, ctx, nullptr, tag);
        }
        const std::size_t groups = group_count(n);
        if (group_grads_.size() < groups) group_grads_.resize(groups);
        std::vector<double> losses(chunks_of(n), 0.0);
        for_each(groups, [&](std::size_t g) { group_gradient<Loss>(net, x, t, norm, ctx, g, losses.data(), group_grads_[g]); },
                 tag);
        sum_groups(net.grads().data(), groups);
        double sum = 0;
        for (double l : losses) sum += l;
        return sum / norm;
    }

    // The training gradient's fixed tree, as the dense executors have it, so that data-parallel
    // training (train/data_parallel.hpp) computes some groups here and the rest elsewhere: a
    // batch of n samples (zero background) has group_count(n) groups; group g sums chunks g, g + G,
    // ... (samples [c * train_chunk, (c + 1) * train_chunk)) in that order, and gradient() is
    // 0 + group 0 + group 1 + ... in float, element by element.
    [[nodiscard]] static constexpr std::size_t chunks_of(std::size_t n) noexcept {
        return (n + train_chunk - 1) / train_chunk;
    }
    [[nodiscard]] static constexpr std::size_t group_count(std::size_t n) noexcept {
        return std::min(gradient_groups, chunks_of(n));
    }
    // Groups `which` of a zero-background batch, group which[k] into out + k * param_count, and
    // the loss of each of their chunks (sum / norm) into chunk_losses[c]. Reads only the samples
    // of those chunks.
    template <class Loss, backend::backend_tag B>
    void group_gradients(Net& net, const sparse_batch& x, const targets& t, const Loss&, double norm,
                         const run_context& ctx, std::span<const std::size_t> which, float* out,
                         double* chunk_losses, B tag) {
        if (!x.zero_background())
            throw std::invalid_argument("nn::sparse_executor::group_gradients: a batch with a non-zero background");
        if (group_grads_.size() < which.size()) group_grads_.resize(which.size());
        for_each(which.size(), [&](std::size_t k) {
            group_gradient<Loss>(net, x, t, norm, ctx, which[k], chunk_losses, group_grads_[k]);
            std::copy(group_grads_[k].begin(), group_grads_[k].begin() + Net::param_count, out + k * Net::param_count);
        }, tag);
    }

    template <class Loss, backend::backend_tag B>
    double loss(Net& net, const sparse_batch& x, const targets& t, const Loss& loss_fn, double norm, float* probs,
                const run_context& ctx, B tag) {
        using head_layer = typename type_at<Net::layer_count - 1, typename Net::slots>::type::layer;
        const std::size_t n = x.size();
        if (!x.zero_background())
            return densified(net, x, tag).loss(net, dense_.data(), n, t, loss_fn, norm, probs, ctx, tag);
        // the network's logits (no head), then the loss and the probabilities from them
        logits_.resize(n * osz);
        forward_to(net, x, logits_.data(), ctx, tag);
        const double sum = Loss::evaluate(logits_.data(), n, osz, t, 0, norm, static_cast<float*>(nullptr));
        if (probs) head_layer::template forward<float>(nullptr, logits_.data(), probs, n, ctx);
        return sum / norm;
    }

private:
    struct workspace {
        typename engine_t::workspace ews;
        kernels::sparse::first_scratch fs;
        kernels::sparse::second_scratch ss;
        std::vector<float> map, dz, dx;
    };
    engine_t engine_;
    kernels::sparse::first_conv<S0::layer::out.c, S0::in.c> first_;
    typename detail::second_kernel<Net>::type second_;
    oneapi::tbb::enumerable_thread_specific<workspace> workspaces_;
    std::vector<std::vector<float>> group_grads_;
    std::vector<float> dense_, logits_;

    // Group g of the batch into gg: its chunks in order, the stages after the first by the engine,
    // the first from the cells; each chunk's loss into losses[c].
    template <class Loss>
    void group_gradient(const Net& net, const sparse_batch& x, const targets& t, double norm, const run_context& ctx,
                        std::size_t g, double* losses, std::vector<float>& gg) {
        constexpr std::size_t last = engine_t::count - 2;  // the stage before the head
        const float* p = net.params().data();
        const std::size_t n = x.size(), chunks = chunks_of(n), groups = group_count(n);
        auto& w = workspaces_.local();
        gg.assign(Net::param_count + detail::slack, 0.0f);
        std::vector<float> dlogits(train_chunk * osz + detail::slack);
        float* dw = gg.data() + S0::offset;
        float* db = dw + S0::layer::weight_count;
        for (std::size_t c = g; c < chunks; c += groups) {
            const std::size_t s0 = c * train_chunk, m = std::min(train_chunk, n - s0);
            run_context cc = ctx;
            cc.sample_base = ctx.sample_base + s0;
            const float* logits = engine_.forward_from(1, p, first_stage(x, s0, m, w), m, cc, w.ews, last + 1, true);
            losses[c] = Loss::evaluate(logits, m, osz, t, s0, norm, dlogits.data());
            if constexpr (second) {
                // the second convolution's weight gradient, and its input gradient only where cells
                // reached and summed elsewhere (all the first stage's parameter gradients need of
                // it), from the cells instead of the dense map
                using S1 = stage_t<1>;
                constexpr std::size_t C1 = S0::layer::out.c;
                const std::size_t per = engine_.template dz_floats<1>();
                const auto& plan = engine_.template plan_of<1>();
                float* dz = engine_t::sized(w.dz, m * per + detail::slack);
                engine_.backward_to_output_grad(p, m, dlogits.data(), last, gg.data(), cc, w.ews, 1, dz);
                for (std::size_t s = 0; s < m; ++s) {
                    first_.forward(x.cells(s0 + s), x.values(s0 + s), w.fs);
                    w.dx.resize(w.fs.ptouched.size() * C1);
                    double rest[C1];
                    second_.backward(w.fs, dz + s * per, plan.rows, plan.owp, w.ss, w.dx.data(), rest,
                                     gg.data() + S1::offset);
                    first_.backward(x.cells(s0 + s), x.values(s0 + s), w.dx.data(), rest, w.fs, dw, db);
                    first_.release(w.fs);
                }
            } else {
                const float* dy0 = engine_.backward(p, m, dlogits.data(), last, gg.data(), cc, w.ews, 1);
                for (std::size_t s = 0; s < m; ++s) {
                    first_.forward(x.cells(s0 + s), x.values(s0 + s), w.fs);
                    first_.backward(x.cells(s0 + s), x.values(s0 + s), dy0 + s * first_.out_size(), w.fs, dw, db);
                    first_.release(w.fs);
                }
            }
        }
    }

    // The dense executor of tag B with x densified into dense_.
    template <backend::backend_tag B>
    auto& densified(Net& net, const sparse_batch& x, B tag) {
        dense_.resize(x.size() * x.sample_size());
        x.densify(dense_.data(), 0, x.size());
        return executor_for(net, tag);
    }

    // The first stage's dense output of samples [s0, s0 + m).
    const float* first_stage(const sparse_batch& x, std::size_t s0, std::size_t m, workspace& w) const {
        float* y = engine_t::sized(w.map, m * first_.out_size() + detail::slack);
        for (std::size_t s = 0; s < m; ++s) {
            first_.forward(x.cells(s0 + s), x.values(s0 + s), w.fs);
            first_.write(w.fs, y + s * first_.out_size());
            first_.release(w.fs);
        }
        return y;
    }

    // Forward of every stage but the head (the logits), as loss() needs them.
    template <backend::backend_tag B>
    void forward_to(Net& net, const sparse_batch& x, float* out, const run_context& ctx, B tag) {
        const float* p = std::as_const(net).params().data();
        const std::size_t n = x.size();
        constexpr std::size_t upto = engine_t::count - 1;
        for_each((n + chunk - 1) / chunk, [&](std::size_t c) {
            auto& w = workspaces_.local();
            const std::size_t s0 = c * chunk, m = std::min(chunk, n - s0);
            run_context cc = ctx;
            cc.sample_base = ctx.sample_base + s0;
            const float* y = nullptr;
            if constexpr (second) {
                if (!ctx.training) {
                    float* x2 = engine_t::sized(w.map, m * second_.out_size() + detail::slack);
                    for (std::size_t s = 0; s < m; ++s) {
                        first_.forward(x.cells(s0 + s), x.values(s0 + s), w.fs);
                        second_.forward(w.fs, w.ss, x2 + s * second_.out_size());
                        first_.release(w.fs);
                    }
                    y = engine_.forward_from(2, p, x2, m, cc, w.ews, upto);
                }
            }
            if (!y) y = engine_.forward_from(1, p, first_stage(x, s0, m, w), m, cc, w.ews, upto);
            std::copy(y, y + m * osz, out + s0 * osz);
        }, tag);
    }

    template <class F>
    static void for_each(std::size_t count, F&& f, backend::requires_backend<backend::simd>) {
        for (std::size_t i = 0; i < count; ++i) f(i);
    }
    template <class F>
    static void for_each(std::size_t count, F&& f, backend::requires_backend<backend::tbb>) {
        oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, count, 1), [&](const auto& r) {
            for (std::size_t i = r.begin(); i < r.end(); ++i) f(i);
        });
    }

    // grads[i] += group 0, 1, ... in that order for every i.
    void sum_groups(float* grads, std::size_t groups) const {
        for (std::size_t g = 0; g < groups; ++g)
            for (std::size_t i = 0; i < Net::param_count; ++i) grads[i] += group_grads_[g][i];
    }
};

// Densifies the batch and runs the dense executor of the same tag.
template <class Net>
class densifying_executor {
    using T = typename Net::value_type;

public:
    void load(const Net&) {}

    template <backend::backend_tag B>
    void forward(Net& net, const sparse_batch& x, T* out, const run_context& ctx, B tag) {
        executor_for(net, tag).forward(net, densify(x), x.size(), out, ctx, tag);
    }
    template <class Loss, backend::backend_tag B>
    double gradient(Net& net, const sparse_batch& x, const targets& t, const Loss& l, double norm,
                    const run_context& ctx, B tag) {
        return executor_for(net, tag).gradient(net, densify(x), x.size(), t, l, norm, ctx, nullptr, tag);
    }
    template <class Loss, backend::backend_tag B>
    double loss(Net& net, const sparse_batch& x, const targets& t, const Loss& l, double norm, T* probs,
                const run_context& ctx, B tag) {
        return executor_for(net, tag).loss(net, densify(x), x.size(), t, l, norm, probs, ctx, tag);
    }

private:
    std::vector<T> dense_;
    const T* densify(const sparse_batch& x) {
        dense_.resize(x.size() * x.sample_size());
        x.densify(dense_.data(), 0, x.size());
        return dense_.data();
    }
};

template <class Net>
densifying_executor<Net> sparse_executor_of(const Net&, backend::requires_backend<backend::scalar>);
template <sparse_network Net>
sparse_executor<Net> sparse_executor_of(const Net&, backend::requires_backend<backend::simd>);
template <class Net>
densifying_executor<Net> sparse_executor_of(const Net&, backend::requires_backend<backend::cuda>);

template <class Net, backend::backend_tag B>
using sparse_executor_t = decltype(sparse_executor_of(std::declval<const Net&>(), std::declval<const B&>()));

// The sparse-input executor net keeps for backend B, loaded with its current parameters.
template <class Net, backend::backend_tag B>
sparse_executor_t<Net, B>& sparse_executor_for(Net& net, B = {}) {
    return net.executors().template get<sparse_executor_t<Net, B>>(std::as_const(net), net.version());
}

}  // namespace flowpic::nn
