#pragma once
// The simd executor: the vectorised float kernels (nn/kernels/conv.hpp, fused_conv.hpp,
// dense.hpp) on the network's stages (nn/stages.hpp), run by the engine (nn/engine.hpp) over
// fixed chunks of samples. backend::simd runs the chunks one after the other on the calling
// thread; backend::tbb spreads them over oneTBB's threads (and, for inference on batches
// smaller than the machine, the output rows of each convolution). Chunk sizes depend only on the
// network and chunk gradients are summed in a fixed order, so results do not depend on the
// backend or the thread count.

#include <algorithm>
#include <span>
#include <cstddef>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include "flowpic/backend/backend.hpp"
#include "flowpic/nn/engine.hpp"
#include "flowpic/nn/kernels/fused_conv.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/loss.hpp"
#include "flowpic/nn/stages.hpp"

namespace flowpic::nn {

template <class Net>
class simd_executor {
    static_assert(std::is_same_v<typename Net::value_type, float>,
                  "nn: the simd kernels run in float; use backend::scalar");
    using engine_t = detail::engine<typename Net::stages>;
    template <std::size_t I>
    using stage_t = typename engine_t::template stage<I>;
    static constexpr std::size_t isz = Net::input_shape.size(), osz = Net::output_shape.size();

public:
    // Samples per chunk: about 4 M multiply-adds, never fewer than one.
    static constexpr std::size_t chunk = std::clamp<std::size_t>(4'000'000 / (Net::macs ? Net::macs : 1), 1, 64);
    // Chunk gradients are summed into this many buffers, each in a fixed order.
    static constexpr std::size_t gradient_groups = 8;

    // Packs the weights for the kernels.
    void load(const Net& net) { engine_.prepare(net.params().data()); }

    void forward(Net& net, const float* x, std::size_t n, float* out, const run_context& ctx,
                 backend::requires_backend<backend::simd> tag) {
        forward_chunks(net, x, n, out, ctx, tag);
    }
    // Batches smaller than the machine: the rows of each convolution spread over the threads.
    void forward(Net& net, const float* x, std::size_t n, float* out, const run_context& ctx,
                 backend::requires_backend<backend::tbb> tag) {
        const auto threads = static_cast<std::size_t>(oneapi::tbb::this_task_arena::max_concurrency());
        if (chunks_of(n) < threads && stage_t<0>::conv && !ctx.training) row_parallel_forward(net, x, n, out, ctx);
        else forward_chunks(net, x, n, out, ctx, tag);
    }

    // Parameter gradients into net.grads() (zeroed by the caller); returns the loss' sum over
    // the batch divided by norm.
    template <class Loss, backend::backend_tag B>
    double gradient(Net& net, const float* x, std::size_t n, const targets& t, const Loss&, double norm,
                    const run_context& ctx, float* dinput, B tag) {
        if (dinput) throw std::invalid_argument("nn::sequential::gradient: input gradients need backend::scalar");
        const std::size_t chunks = chunks_of(n);
        const std::size_t groups = group_count(n);
        if (group_grads_.size() < groups) group_grads_.resize(groups);
        std::vector<double> losses(chunks, 0.0);
        for_each(groups, [&](std::size_t g) { group_gradient<Loss>(net, x, n, t, norm, ctx, g, losses.data()); }, tag);
        sum_groups(net.grads().data(), groups, tag);
        double sum = 0;
        for (double l : losses) sum += l;
        return sum / norm;
    }

    // The gradient's fixed reduction tree, for callers that compute some groups in one process and
    // the rest in others (train/data_parallel.hpp): a batch of n samples has group_count(n)
    // groups; group g sums chunks g, g + G, g + 2G, ... (samples [c * chunk, (c + 1) * chunk)) in
    // that order, and gradient() is 0 + group 0 + group 1 + ... in float, element by element.
    [[nodiscard]] static constexpr std::size_t chunks_of(std::size_t n) noexcept { return (n + chunk - 1) / chunk; }
    [[nodiscard]] static constexpr std::size_t group_count(std::size_t n) noexcept {
        return std::min(gradient_groups, chunks_of(n));
    }
    // Groups `which` of the batch, group which[k] into out + k * param_count, and the loss of each
    // of their chunks (sum / norm) into chunk_losses[c]. Reads only the samples of those chunks.
    template <class Loss, backend::backend_tag B>
    void group_gradients(Net& net, const float* x, std::size_t n, const targets& t, const Loss&, double norm,
                         const run_context& ctx, std::span<const std::size_t> which, float* out, double* chunk_losses,
                         B tag) {
        if (group_grads_.size() < which.size()) group_grads_.resize(which.size());
        for_each(which.size(), [&](std::size_t k) {
            group_gradient<Loss>(net, x, n, t, norm, ctx, which[k], chunk_losses, k);
            std::copy(group_grads_[k].begin(), group_grads_[k].begin() + Net::param_count, out + k * Net::param_count);
        }, tag);
    }

    template <class Loss, backend::backend_tag B>
    double loss(Net& net, const float* x, std::size_t n, const targets& t, const Loss&, double norm, float* probs,
                const run_context& ctx, B tag) {
        using head_layer = typename type_at<Net::layer_count - 1, typename Net::slots>::type::layer;
        const std::size_t chunks = chunks_of(n);
        std::vector<double> sums(chunks, 0.0);
        const float* p = net.params().data();
        for_each(chunks, [&](std::size_t c) {
            auto& ws = workspaces_.local();
            const std::size_t s0 = c * chunk, m = std::min(chunk, n - s0);
            run_context cc = ctx;
            cc.sample_base = ctx.sample_base + s0;
            const float* z = engine_.forward(p, x + s0 * isz, m, cc, ws, engine_t::count - 1);
            sums[c] = Loss::evaluate(z, m, osz, t, s0, norm, static_cast<float*>(nullptr));
            if (probs) head_layer::template forward<float>(nullptr, z, probs + s0 * osz, m, cc);
        }, tag);
        double sum = 0;
        for (double v : sums) sum += v;
        return sum / norm;
    }

private:
    engine_t engine_;
    oneapi::tbb::enumerable_thread_specific<typename engine_t::workspace> workspaces_;
    oneapi::tbb::enumerable_thread_specific<kernels::simd::fused_scratch> scratch_;
    std::vector<std::vector<float>> group_grads_;

    // Group g of a batch into group_grads_[slot] (slot g by default); chunk losses into losses[c].
    template <class Loss>
    void group_gradient(Net& net, const float* x, std::size_t n, const targets& t, double norm, const run_context& ctx,
                        std::size_t g, double* losses, std::size_t slot = npos) {
        constexpr std::size_t last = engine_t::count - 2;  // the stage before the head
        static_assert(engine_t::count >= 2, "nn: training needs at least one layer before the head");
        const std::size_t chunks = chunks_of(n), groups = group_count(n);
        const float* p = std::as_const(net).params().data();
        auto& ws = workspaces_.local();
        auto& gg = group_grads_[slot == npos ? g : slot];
        gg.assign(Net::param_count + detail::slack, 0.0f);
        std::vector<float> dlogits(chunk * osz + detail::slack);
        for (std::size_t c = g; c < chunks; c += groups) {
            const std::size_t s0 = c * chunk, m = std::min(chunk, n - s0);
            run_context cc = ctx;
            cc.sample_base = ctx.sample_base + s0;
            const float* logits = engine_.forward(p, x + s0 * isz, m, cc, ws, last + 1, true);
            losses[c] = Loss::evaluate(logits, m, osz, t, s0, norm, dlogits.data());
            engine_.backward(p, m, dlogits.data(), last, gg.data(), cc, ws);
        }
    }
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    // f(0) .. f(count - 1): in order on this thread, or spread over the threads.
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
    void sum_groups(float* grads, std::size_t groups, backend::requires_backend<backend::simd>) const {
        for (std::size_t g = 0; g < groups; ++g)
            for (std::size_t i = 0; i < Net::param_count; ++i) grads[i] += group_grads_[g][i];
    }
    void sum_groups(float* grads, std::size_t groups, backend::requires_backend<backend::tbb>) const {
        oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, Net::param_count, 4096), [&](const auto& r) {
            for (std::size_t g = 0; g < groups; ++g)
                for (std::size_t i = r.begin(); i < r.end(); ++i) grads[i] += group_grads_[g][i];
        });
    }

    template <backend::backend_tag B>
    void forward_chunks(const Net& net, const float* x, std::size_t n, float* out, const run_context& ctx, B tag) {
        const float* p = net.params().data();
        for_each(chunks_of(n), [&](std::size_t c) {
            auto& ws = workspaces_.local();
            const std::size_t s0 = c * chunk, m = std::min(chunk, n - s0);
            run_context cc = ctx;
            cc.sample_base = ctx.sample_base + s0;
            const float* y = engine_.forward(p, x + s0 * isz, m, cc, ws);
            std::copy(y, y + m * osz, out + s0 * osz);
        }, tag);
    }

    // Each conv stage spreads its output rows over threads, the small stages between and after
    // them run on this one. Same arithmetic as the chunks. (Stages are member templates, not
    // lambdas expanded in a fold: GCC may number such lambdas differently in two translation
    // units, and the linker would then merge different code.)
    void row_parallel_forward(const Net& net, const float* x, std::size_t n, float* out, const run_context& ctx) {
        auto& ws = workspaces_.local();
        ws.io[0] = x;
        row_parallel_stages(net.params().data(), ws, n, ctx, std::make_index_sequence<engine_t::count>{});
        std::copy(ws.io[engine_t::count], ws.io[engine_t::count] + n * osz, out);
    }
    template <std::size_t... I>
    void row_parallel_stages(const float* p, typename engine_t::workspace& ws, std::size_t n, const run_context& ctx,
                             std::index_sequence<I...>) {
        (row_parallel_stage<I>(p, ws, n, ctx), ...);
    }
    template <std::size_t I>
    void row_parallel_stage(const float* p, typename engine_t::workspace& ws, std::size_t n, const run_context& ctx) {
        using S = stage_t<I>;
        if constexpr (S::conv) {
            float* y = engine_t::sized(ws.act[I], n * S::out.size() + detail::slack);
            const std::size_t rows = engine_.template conv_out_rows<I>();
            const std::size_t band = std::max<std::size_t>(1, rows / 32);
            const std::size_t bands = (rows + band - 1) / band;
            const float* in = ws.io[I];
            oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, n * bands, 1), [&](const auto& r) {
                auto& fs = scratch_.local();
                for (std::size_t i = r.begin(); i < r.end(); ++i) {
                    const std::size_t s = i / bands, b = i % bands;
                    // inference: no backward follows, so no pooling winners
                    engine_.template conv_rows<I>(p, in, y, nullptr, b * band, std::min(rows, (b + 1) * band), ctx, s,
                                                  fs);
                }
            });
            ws.io[I + 1] = y;
        } else {
            engine_.template forward_stage<I>(p, n, ctx, ws);
        }
    }
};

template <class Net>
simd_executor<Net> executor_of(const Net&, backend::requires_backend<backend::simd>);

}  // namespace flowpic::nn
