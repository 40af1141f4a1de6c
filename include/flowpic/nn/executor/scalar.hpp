#pragma once
// The scalar executor: the oracle. Layer by layer over the whole batch with each layer's own
// reference code, in the network's value type (float or double), one thread. Every other
// executor is tested against it; it alone gives input gradients (gradient checks).

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/loss.hpp"
#include "flowpic/nn/stages.hpp"

namespace flowpic::nn {

template <class Net>
class scalar_executor {
    using T = typename Net::value_type;
    static constexpr std::size_t L = Net::layer_count;
    static constexpr std::size_t classes = Net::output_shape.size();
    template <std::size_t I>
    using slot_at = typename type_at<I, typename Net::slots>::type;
    using act_list = std::vector<std::vector<T>>;  // acts[i]: output of layer i

public:
    void load(const Net&) {}  // reads the parameters where they are

    void forward(Net& net, const T* x, std::size_t n, T* out, const run_context& ctx,
                 backend::requires_backend<backend::scalar>) {
        act_list acts(L);
        forward_layers(net, x, n, ctx, acts, L);
        std::copy(acts[L - 1].begin(), acts[L - 1].end(), out);
    }

    // Parameter gradients into net.grads() (zeroed by the caller), input gradients into dinput
    // when given; returns the loss' sum over the batch divided by norm.
    template <class Loss>
    double gradient(Net& net, const T* x, std::size_t n, const targets& t, const Loss&, double norm,
                    const run_context& ctx, T* dinput, backend::requires_backend<backend::scalar>) {
        act_list acts(L);
        forward_layers(net, x, n, ctx, acts, L - 1);  // the head is fused into the loss
        double sum = 0;
        if constexpr (L >= 2) {
            std::vector<T> dy(n * classes);
            sum = Loss::evaluate(acts[L - 2].data(), n, classes, t, 0, norm, dy.data());
            [&]<std::size_t... R>(std::index_sequence<R...>) {
                (backward_layer<L - 2 - R>(net, x, n, ctx, acts, dy, dinput), ...);
            }(std::make_index_sequence<L - 1>{});
        }
        return sum / norm;
    }

    template <class Loss>
    double loss(Net& net, const T* x, std::size_t n, const targets& t, const Loss&, double norm, T* probs,
                const run_context& ctx, backend::requires_backend<backend::scalar>) {
        using head_layer = typename slot_at<L - 1>::layer;
        act_list acts(L);
        forward_layers(net, x, n, ctx, acts, L - 1);
        const T* z = L >= 2 ? acts[L - 2].data() : x;
        const double sum = Loss::evaluate(z, n, classes, t, 0, norm, static_cast<T*>(nullptr));
        if (probs) head_layer::template forward<T>(nullptr, z, probs, n, ctx);
        return sum / norm;
    }

private:
    static void forward_layers(const Net& net, const T* x, std::size_t n, const run_context& ctx, act_list& acts,
                               std::size_t stop) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((I < stop ? forward_layer<I>(net, x, n, ctx, acts) : void()), ...);
        }(std::make_index_sequence<L>{});
    }

    template <std::size_t I>
    static void forward_layer(const Net& net, const T* x, std::size_t n, const run_context& ctx, act_list& acts) {
        using Lr = typename slot_at<I>::layer;
        acts[I].resize(n * Lr::out.size());
        const T* in = I == 0 ? x : acts[I == 0 ? 0 : I - 1].data();
        run_context c = ctx;
        c.layer = I;
        Lr::template forward<T>(net.params().data() + slot_at<I>::offset, in, acts[I].data(), n, c);
    }

    template <std::size_t I>
    static void backward_layer(Net& net, const T* x, std::size_t n, const run_context& ctx, act_list& acts,
                               std::vector<T>& dy, T* dinput) {
        using Lr = typename slot_at<I>::layer;
        const T* in = I == 0 ? x : acts[I == 0 ? 0 : I - 1].data();
        std::vector<T> dx;
        T* dxp = dinput;
        if constexpr (I > 0) {
            dx.resize(n * Lr::in.size());
            dxp = dx.data();
        }
        run_context c = ctx;
        c.layer = I;
        Lr::template backward<T>(std::as_const(net).params().data() + slot_at<I>::offset, in, acts[I].data(), dy.data(),
                                 dxp, net.grads().data() + slot_at<I>::offset, n, c);
        if constexpr (I > 0) dy = std::move(dx);
    }
};

// The executor of a network on backend B: chosen by overload on the tag, the most derived
// that exists (see nn/executor/executor.hpp). Declarations only: used in decltype.
template <class Net>
scalar_executor<Net> executor_of(const Net&, backend::requires_backend<backend::scalar>);

}  // namespace flowpic::nn
