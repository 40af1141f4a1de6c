#pragma once
// nn::cuda_network<Net>: the device twin of a network, on the hand-written CUDA kernels of the
// compiled component flowpic::cuda (flowpic/cuda/network_api.hpp). It holds the parameters,
// their gradients, the optimiser's moments and every activation in device memory, so that a
// training loop or a classifier fed by GPU pictures (picture::cuda_maker::for_each_device_chunk)
// moves nothing but labels and the loss across the bus:
//
//   nn::networks::mini_flowpic<5> net(nn::init_scheme::glorot_uniform, 1);
//   nn::cuda_network dev(net);                                  // uploads the parameters
//   double l = dev.gradient(d_x, n, d_labels, nn::categorical_crossentropy{}, ctx);
//   dev.step(nn::adam::options{});                              // Adam on the device
//   dev.download(net);                                          // back for a model file
//
// The same kernels run when a network is simply called with the backend tag:
// net.predict(x, n, out, backend::cuda{}) (a twin made on first use, parameters uploaded when the
// host changed them). Layer for layer the same arithmetic as the scalar oracle: dropout masks are
// the same bits, optimiser steps the same float64 rounding; float sums differ in their order
// (tests state the tolerances). One twin must not run two calls at once.

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/config.hpp"
#include "flowpic/cuda/network_api.hpp"
#include "flowpic/cuda/nn_context.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/loss.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/shape.hpp"
#include "flowpic/nn/stages.hpp"

namespace flowpic::nn {

namespace cuda_detail {

template <class>
inline constexpr bool dependent_false = false;

template <class L>
flowpic_cuda_conv2d conv_of() {
    constexpr auto g = L::geo;
    return {static_cast<std::uint32_t>(g.c),  static_cast<std::uint32_t>(g.h),  static_cast<std::uint32_t>(g.w),
            static_cast<std::uint32_t>(g.f),  static_cast<std::uint32_t>(g.kh), static_cast<std::uint32_t>(g.kw),
            static_cast<std::uint32_t>(g.sh), static_cast<std::uint32_t>(g.sw), static_cast<std::uint32_t>(g.pt),
            static_cast<std::uint32_t>(g.pl), static_cast<std::uint32_t>(g.oh), static_cast<std::uint32_t>(g.ow)};
}
template <class L>
flowpic_cuda_pool2d pool_of() {
    constexpr auto g = L::geo;
    return {static_cast<std::uint32_t>(g.c), static_cast<std::uint32_t>(g.h), static_cast<std::uint32_t>(g.w),
            static_cast<std::uint32_t>(g.k), static_cast<std::uint32_t>(g.s), static_cast<std::uint32_t>(g.oh),
            static_cast<std::uint32_t>(g.ow)};
}

template <class L>
flowpic_cuda_dropout dropout_of(const run_context& rc, std::size_t layer) {
    return flowpic_cuda_dropout{rc.seed,           rc.step, layer, rc.sample_base, L::threshold,
                                static_cast<std::uint32_t>(L::unit), static_cast<float>(1.0 / (1.0 - L::rate))};
}

// ---- one operation per layer kind, chosen by overload on kind_of<L> ----

// What a layer's device operation sees: its parameters and gradients, its input x and (after
// the forward) output y, the batch size, the run and its position in the network.
struct layer_args {
    flowpic_cuda_nn* c;
    const float* p;
    float* dp;
    const float* x;
    const float* y;
    std::size_t n;
    const run_context& rc;
    std::size_t index;
};

// forward<L>(a, out, kind): runs the layer on a.x and returns its output, written to out()
// (a buffer of n * L::out.size()) or a.x itself where the layer is the identity.
template <class L, layer_kind K, class Out>
const float* forward(const layer_args&, Out&&, kind_t<K>) {
    static_assert(dependent_false<L>, "nn::cuda_network: a layer kind without a CUDA kernel");
    return nullptr;
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&&, kind_t<layer_kind::flatten>) {
    return a.x;
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&& out, kind_t<layer_kind::conv2d>) {
    float* y = out();
    const auto g = conv_of<L>();
    cuda::check_nn(flowpic_cuda_nn_conv2d_forward(a.c, &g, a.p, a.p + L::weight_count, a.x, y, a.n),
                   "flowpic_cuda_nn_conv2d_forward");
    return y;
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&& out, kind_t<layer_kind::max_pool2d>) {
    float* y = out();
    const auto g = pool_of<L>();
    cuda::check_nn(flowpic_cuda_nn_max_pool2d_forward(a.c, &g, a.x, y, a.n), "flowpic_cuda_nn_max_pool2d_forward");
    return y;
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&& out, kind_t<layer_kind::relu>) {
    float* y = out();
    cuda::check_nn(flowpic_cuda_nn_relu_forward(a.c, a.x, y, a.n * L::in.size()), "flowpic_cuda_nn_relu_forward");
    return y;
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&& out, kind_t<layer_kind::sigmoid>) {
    float* y = out();
    cuda::check_nn(flowpic_cuda_nn_sigmoid_forward(a.c, a.x, y, a.n * L::in.size()), "flowpic_cuda_nn_sigmoid_forward");
    return y;
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&& out, kind_t<layer_kind::softmax>) {
    float* y = out();
    cuda::check_nn(flowpic_cuda_nn_softmax_forward(a.c, a.x, y, a.n, static_cast<std::uint32_t>(L::in.size())),
                   "flowpic_cuda_nn_softmax_forward");
    return y;
}
template <class L, class Out>
const float* dropout_forward(const layer_args& a, Out&& out) {
    if (!a.rc.training) return a.x;  // identity at inference
    float* y = out();
    const flowpic_cuda_dropout d = dropout_of<L>(a.rc, a.index);
    cuda::check_nn(flowpic_cuda_nn_dropout(a.c, &d, a.x, y, a.n, L::in.size()), "flowpic_cuda_nn_dropout");
    return y;
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&& out, kind_t<layer_kind::dropout>) {
    return dropout_forward<L>(a, out);
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&& out, kind_t<layer_kind::dropout2d>) {
    return dropout_forward<L>(a, out);
}
template <class L, class Out>
const float* forward(const layer_args& a, Out&& out, kind_t<layer_kind::dense>) {
    float* y = out();
    cuda::check_nn(flowpic_cuda_nn_dense_forward(a.c, static_cast<std::uint32_t>(L::inputs),
                                                 static_cast<std::uint32_t>(L::units), a.p, a.p + L::weight_count, a.x,
                                                 y, a.n),
                   "flowpic_cuda_nn_dense_forward");
    return y;
}

// backward<L, NeedDx>(a, dy, out, kind): parameter gradients into a.dp, and the gradient with
// respect to the layer's input, written to out() (n * L::in.size()), returned; dy itself where
// the layer is the identity or no input gradient is needed (NeedDx false: the first layer).
template <class L, bool NeedDx, layer_kind K, class Out>
const float* backward(const layer_args&, const float*, Out&&, kind_t<K>) {
    static_assert(dependent_false<L>, "nn::cuda_network: a layer kind without a CUDA kernel");
    return nullptr;
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args&, const float* dy, Out&&, kind_t<layer_kind::flatten>) {
    return dy;  // same values, same gradient
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args& a, const float* dy, Out&& out, kind_t<layer_kind::conv2d>) {
    const auto g = conv_of<L>();
    cuda::check_nn(flowpic_cuda_nn_conv2d_backward_params(a.c, &g, a.x, dy, a.dp, a.dp + L::weight_count, a.n),
                   "flowpic_cuda_nn_conv2d_backward_params");
    if constexpr (!NeedDx) return dy;
    float* dx = out();
    cuda::check_nn(flowpic_cuda_nn_conv2d_backward_data(a.c, &g, a.p, dy, dx, a.n), "flowpic_cuda_nn_conv2d_backward_data");
    return dx;
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args& a, const float* dy, Out&& out, kind_t<layer_kind::dense>) {
    const auto in = static_cast<std::uint32_t>(L::inputs), units = static_cast<std::uint32_t>(L::units);
    cuda::check_nn(flowpic_cuda_nn_dense_backward_params(a.c, in, units, a.x, dy, a.dp, a.dp + L::weight_count, a.n),
                   "flowpic_cuda_nn_dense_backward_params");
    if constexpr (!NeedDx) return dy;
    float* dx = out();
    cuda::check_nn(flowpic_cuda_nn_dense_backward_data(a.c, in, units, a.p, dy, dx, a.n),
                   "flowpic_cuda_nn_dense_backward_data");
    return dx;
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args& a, const float* dy, Out&& out, kind_t<layer_kind::max_pool2d>) {
    if constexpr (!NeedDx) return dy;
    float* dx = out();
    const auto g = pool_of<L>();
    cuda::check_nn(flowpic_cuda_nn_max_pool2d_backward(a.c, &g, a.x, dy, dx, a.n), "flowpic_cuda_nn_max_pool2d_backward");
    return dx;
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args& a, const float* dy, Out&& out, kind_t<layer_kind::relu>) {
    if constexpr (!NeedDx) return dy;
    float* dx = out();
    cuda::check_nn(flowpic_cuda_nn_relu_backward(a.c, a.y, dy, dx, a.n * L::in.size()), "flowpic_cuda_nn_relu_backward");
    return dx;
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args& a, const float* dy, Out&& out, kind_t<layer_kind::sigmoid>) {
    if constexpr (!NeedDx) return dy;
    float* dx = out();
    cuda::check_nn(flowpic_cuda_nn_sigmoid_backward(a.c, a.y, dy, dx, a.n * L::in.size()),
                   "flowpic_cuda_nn_sigmoid_backward");
    return dx;
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args& a, const float* dy, Out&& out, kind_t<layer_kind::softmax>) {
    if constexpr (!NeedDx) return dy;
    float* dx = out();
    cuda::check_nn(flowpic_cuda_nn_softmax_backward(a.c, a.y, dy, dx, a.n, static_cast<std::uint32_t>(L::in.size())),
                   "flowpic_cuda_nn_softmax_backward");
    return dx;
}
template <class L, bool NeedDx, class Out>
const float* dropout_backward(const layer_args& a, const float* dy, Out&& out) {
    if constexpr (!NeedDx) return dy;
    if (!a.rc.training) return dy;  // identity
    float* dx = out();
    const flowpic_cuda_dropout d = dropout_of<L>(a.rc, a.index);
    cuda::check_nn(flowpic_cuda_nn_dropout(a.c, &d, dy, dx, a.n, L::in.size()), "flowpic_cuda_nn_dropout");
    return dx;
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args& a, const float* dy, Out&& out, kind_t<layer_kind::dropout>) {
    return dropout_backward<L, NeedDx>(a, dy, out);
}
template <class L, bool NeedDx, class Out>
const float* backward(const layer_args& a, const float* dy, Out&& out, kind_t<layer_kind::dropout2d>) {
    return dropout_backward<L, NeedDx>(a, dy, out);
}

// The head fused into its loss: gradient of the logits into dz, the loss kept on the device.
inline void loss_gradient(flowpic_cuda_nn* c, const float* z, const std::int32_t* labels, const double* w,
                          std::size_t n, std::size_t classes, float* dz, const categorical_crossentropy&) {
    cuda::check_nn(flowpic_cuda_nn_softmax_cross_entropy(c, z, labels, w, n, classes, dz),
                   "flowpic_cuda_nn_softmax_cross_entropy");
}
inline void loss_gradient(flowpic_cuda_nn* c, const float* z, const std::int32_t* labels, const double* w,
                          std::size_t n, std::size_t, float* dz, const binary_crossentropy&) {
    cuda::check_nn(flowpic_cuda_nn_sigmoid_binary_cross_entropy(c, z, labels, w, n, dz),
                   "flowpic_cuda_nn_sigmoid_binary_cross_entropy");
}

}  // namespace cuda_detail

template <class Net>
class cuda_network {
    static_assert(FLOWPIC_HAS_CUDA || cuda_detail::dependent_false<Net>,
                  "flowpic: nn::cuda_network and backend::cuda on a network need the compiled flowpic::cuda "
                  "component: target_link_libraries(<target> PRIVATE flowpic::cuda) (configure flowpic with "
                  "FLOWPIC_ENABLE_CUDA=ON where nvcc is found)");
    static_assert(std::is_same_v<typename Net::value_type, float>,
                  "flowpic: the CUDA network kernels run in float; use nn::sequential (float), not double");

public:
    using network_type = Net;
    using value_type = float;
    using slots = typename Net::slots;
    static constexpr shape input_shape = Net::input_shape;
    static constexpr shape output_shape = Net::output_shape;
    static constexpr std::size_t param_count = Net::param_count;
    static constexpr std::size_t layer_count = Net::layer_count;
    static constexpr layer_kind head = Net::head;
    static constexpr bool has_head = Net::has_head;
    // Samples per transfer when inputs come from the host: about 256 MB of input at most.
    static constexpr std::size_t host_chunk =
        std::clamp<std::size_t>((std::size_t{256} << 20) / (input_shape.size() * sizeof(float)), 1, 4096);

    explicit cuda_network(int device = -1) : ctx_(device) {
        params_.bind(ctx_);
        grads_.bind(ctx_);
        params_.reserve(param_count);
        grads_.reserve(param_count);
        params_.zero(param_count);
        grads_.zero(param_count);
        for (auto& a : act_) a.bind(ctx_);
        for (auto* b : {&g0_, &g1_, &dlogits_, &input_}) b->bind(ctx_);
        labels_.bind(ctx_);
        weights_.bind(ctx_);
        m_.bind(ctx_);
        v_.bind(ctx_);
    }
    explicit cuda_network(const Net& host, int device = -1) : cuda_network(device) { upload(host); }

    // ---- parameters ----
    void upload(std::span<const float> params) {
        if (params.size() != param_count)
            throw std::invalid_argument("nn::cuda_network::upload: " + std::to_string(params.size()) +
                                        " parameters for a network of " + std::to_string(param_count));
        params_.upload(params);
    }
    void upload(const Net& net) { upload(net.params()); }
    void download(std::span<float> params) const {
        if (params.size() != param_count)
            throw std::invalid_argument("nn::cuda_network::download: the span does not hold the network's parameters");
        params_.download(params);
    }
    void download(Net& net) const { download(net.params()); }
    void download_grads(std::span<float> grads) const {
        if (grads.size() != param_count)
            throw std::invalid_argument("nn::cuda_network::download_grads: the span does not hold the network's parameters");
        grads_.download(grads);
    }
    [[nodiscard]] std::vector<float> params_host() const {
        std::vector<float> p(param_count);
        download(p);
        return p;
    }
    [[nodiscard]] std::vector<float> grads_host() const {
        std::vector<float> g(param_count);
        download_grads(g);
        return g;
    }

    [[nodiscard]] float* device_params() noexcept { return params_.data(); }
    [[nodiscard]] float* device_grads() noexcept { return grads_.data(); }
    [[nodiscard]] const cuda::nn_context& context() const noexcept { return ctx_; }
    void synchronize() const { ctx_.synchronize(); }

    // ---- device data ----

    // The last layer's outputs (probabilities after softmax or sigmoid) of n samples at d_x
    // ([n, C, H, W] on this context's device; pictures of another value type than float are
    // converted on the device) into d_out ([n, outputs]); queued.
    template <class V>
    void forward(const V* d_x, std::size_t n, float* d_out, const run_context& rc = {}) {
        if (n == 0) return;
        const float* y = run_forward(input_from(d_x, n), n, rc, layer_count);
        copy(d_out, y, n * output_shape.size());
    }
    // The same into host memory; waits, so that the pictures may be overwritten after it returns
    // (picture::cuda_maker::for_each_device_chunk).
    template <class V>
    void predict_from_device(const V* d_x, std::size_t n, float* out, const run_context& rc = {}) {
        if (n == 0) return;
        const float* y = run_forward(input_from(d_x, n), n, rc, layer_count);
        cuda::check_nn(flowpic_cuda_nn_download(ctx_.get(), out, y, n * output_shape.size() * sizeof(float)),
                       "flowpic_cuda_nn_download");
    }
    // The head's input (logits) of n samples: valid until the next call; queued.
    const float* logits(const float* d_x, std::size_t n, const run_context& rc = {}) {
        static_assert(has_head, "nn::cuda_network::logits: the network ends without softmax or sigmoid");
        return run_forward(d_x, n, rc, layer_count - 1);
    }

    // Gradient of the loss' batch mean into device_grads() (zeroed first) for n samples at d_x
    // with labels at d_labels (device int32); class weights from the host (empty: all 1).
    // Waits for the loss, which it returns.
    template <class V, loss_function Loss>
    double gradient(const V* d_x, std::size_t n, const std::int32_t* d_labels, const Loss&,
                    const run_context& rc = {}, std::span<const double> class_weights = {}) {
        static_assert(head == Loss::head, "nn::cuda_network::gradient: the loss does not match the network's last layer "
                                          "(categorical_crossentropy needs softmax, binary_crossentropy sigmoid)");
        static_assert(layer_count >= 2, "nn: training needs at least one layer before the head");
        grads_.zero(param_count);
        if (n == 0) return 0.0;
        const double* w = device_weights<Loss>(class_weights);
        const float* x = input_from(d_x, n);
        const float* z = run_forward(x, n, rc, layer_count - 1);
        constexpr std::size_t classes = output_shape.size();
        float* dz = dlogits_.reserve(n * classes);
        cuda_detail::loss_gradient(ctx_.get(), z, d_labels, w, n, classes, dz, Loss{});
        run_backward(n, dz, rc, std::make_index_sequence<layer_count - 1>{});
        double sum = 0, norm = 0;
        cuda::check_nn(flowpic_cuda_nn_read_loss(ctx_.get(), &sum, &norm), "nn::cuda_network::gradient");
        return sum / norm;
    }

    // One optimiser step on the device with the gradients of the last gradient() call: Adam or
    // SGD with PyTorch's rules, moments in float64 (nn::adam, nn::sgd give the same bits).
    void step(const adam::options& o) {
        ensure_moments(true);
        ++t_;
        const flowpic_cuda_adam a{o.lr, o.beta1, o.beta2, o.eps, t_};
        cuda::check_nn(flowpic_cuda_nn_adam_step(ctx_.get(), &a, params_.data(), grads_.data(), m_.data(), v_.data(),
                                                 param_count),
                       "flowpic_cuda_nn_adam_step");
    }
    void step(const sgd::options& o) {
        if (o.momentum != 0.0) ensure_moments(false);
        const bool first = t_ == 0;
        ++t_;
        cuda::check_nn(flowpic_cuda_nn_sgd_step(ctx_.get(), o.lr, o.momentum, first ? 1 : 0, params_.data(), grads_.data(),
                                                o.momentum != 0.0 ? m_.data() : nullptr, param_count),
                       "flowpic_cuda_nn_sgd_step");
    }
    // Forgets the optimiser's moments and step count (a new training run).
    void reset_optimizer() noexcept { t_ = 0; }
    [[nodiscard]] std::uint64_t steps() const noexcept { return t_; }

    // ---- host data (copied up in chunks, results copied down) ----

    void predict(const float* x, std::size_t n, float* out, const run_context& rc = {}) {
        constexpr std::size_t isz = input_shape.size(), osz = output_shape.size();
        std::vector<float> chunk_out;
        for (std::size_t s0 = 0; s0 < n; s0 += host_chunk) {
            const std::size_t m = std::min(host_chunk, n - s0);
            float* dx = input_.reserve(m * isz);
            input_.upload(std::span<const float>(x + s0 * isz, m * isz));
            run_context c = rc;
            c.sample_base = rc.sample_base + s0;
            const float* y = run_forward(dx, m, c, layer_count);
            cuda::check_nn(flowpic_cuda_nn_download(ctx_.get(), out + s0 * osz, y, m * osz * sizeof(float)),
                           "flowpic_cuda_nn_download");
        }
    }
    // The same call as the host network's: the tag is ignored (always this device).
    template <backend::backend_tag K>
    void predict(const float* x, std::size_t n, float* out, K) {
        predict(x, n, out);
    }

    // Gradient for host inputs and labels (one transfer; the batch must fit the device).
    template <loss_function Loss>
    double gradient(const float* x, std::size_t n, const targets& t, const Loss& loss, const run_context& rc = {}) {
        if (t.labels.size() < n) throw std::invalid_argument("nn::cuda_network::gradient: fewer labels than samples");
        if (n == 0) {
            grads_.zero(param_count);
            return 0.0;
        }
        host_labels_check<Loss>(t, n);
        float* dx = input_.reserve(n * input_shape.size());
        input_.upload(std::span<const float>(x, n * input_shape.size()));
        std::int32_t* dl = labels_.reserve(n);
        labels_.upload(t.labels.first(n));
        return gradient(dx, n, dl, loss, rc, t.class_weights);
    }

    // Mean loss of a batch from the host without gradients; probs (may be null) receives the
    // outputs. Logits come down and the loss is evaluated by the same code as on the CPU.
    template <loss_function Loss, backend::backend_tag K = backend::cuda>
    double loss(const float* x, std::size_t n, const targets& t, const Loss&, float* probs = nullptr,
                const run_context& rc = {}, K = {}) {
        static_assert(head == Loss::head, "nn::cuda_network::loss: the loss does not match the network's last layer");
        if (t.labels.size() < n) throw std::invalid_argument("nn::cuda_network::loss: fewer labels than samples");
        if (n == 0) return 0.0;
        const double norm = Loss::normalizer(t, n);
        if (!(norm > 0)) throw std::invalid_argument("nn::cuda_network::loss: the class weights of the batch sum to 0");
        constexpr std::size_t isz = input_shape.size(), classes = output_shape.size();
        std::vector<float> z(n * classes);
        for (std::size_t s0 = 0; s0 < n; s0 += host_chunk) {
            const std::size_t m = std::min(host_chunk, n - s0);
            float* dx = input_.reserve(m * isz);
            input_.upload(std::span<const float>(x + s0 * isz, m * isz));
            run_context c = rc;
            c.sample_base = rc.sample_base + s0;
            const float* dz = run_forward(dx, m, c, layer_count - 1);
            cuda::check_nn(flowpic_cuda_nn_download(ctx_.get(), z.data() + s0 * classes, dz, m * classes * sizeof(float)),
                           "flowpic_cuda_nn_download");
        }
        const double sum = Loss::evaluate(z.data(), n, classes, t, 0, norm, static_cast<float*>(nullptr));
        if (probs) {
            using head_layer = typename slot_at<layer_count - 1>::layer;
            head_layer::template forward<float>(nullptr, z.data(), probs, n, rc);
        }
        return sum / norm;
    }

private:
    template <std::size_t I>
    using slot_at = typename type_at<I, slots>::type;

    cuda::nn_context ctx_;  // first: destroyed after every array below
    cuda::device_array<float> params_, grads_;
    std::array<cuda::device_array<float>, layer_count> act_;
    std::array<const float*, layer_count + 1> io_{};  // io_[i]: input of layer i; io_[L]: the output
    cuda::device_array<float> g0_, g1_, dlogits_, input_;
    cuda::device_array<std::int32_t> labels_;
    cuda::device_array<double> weights_, m_, v_;
    std::vector<double> weights_host_;
    bool weights_set_ = false;
    std::uint64_t t_ = 0;
    bool moments_adam_ = false;

    // Device pictures as the network's float input.
    template <class V>
    const float* input_from(const V* d, std::size_t n) {
        static_assert(std::is_arithmetic_v<V> && (sizeof(V) == 1 || sizeof(V) == 2 || sizeof(V) == 4 || sizeof(V) == 8),
                      "nn::cuda_network: device pictures hold 1, 2, 4 or 8-byte numbers");
        if constexpr (std::is_same_v<V, float>) {
            return d;
        } else {
            const std::size_t count = n * input_shape.size();
            float* dst = input_.reserve(count);
            const std::uint32_t kind = std::is_floating_point_v<V> ? FLOWPIC_CUDA_VALUE_FLOAT
                                       : std::is_signed_v<V>       ? FLOWPIC_CUDA_VALUE_SIGNED
                                                                   : FLOWPIC_CUDA_VALUE_UNSIGNED;
            cuda::check_nn(flowpic_cuda_nn_to_float(ctx_.get(), d, sizeof(V), kind, dst, count), "flowpic_cuda_nn_to_float");
            return dst;
        }
    }

    void copy(float* dst, const float* src, std::size_t count) {
        if (dst != src)
            cuda::check_nn(flowpic_cuda_nn_copy(ctx_.get(), dst, src, count * sizeof(float)), "flowpic_cuda_nn_copy");
    }

    template <class Loss>
    void host_labels_check(const targets& t, std::size_t n) const {
        const std::size_t classes = head == layer_kind::softmax ? output_shape.size() : 2;
        for (std::size_t i = 0; i < n; ++i) detail::check_label(t.labels[i], classes);
        if (!t.class_weights.empty() && t.class_weights.size() < classes)
            throw std::invalid_argument("nn::cuda_network: fewer class weights than classes");
    }

    // Class weights on the device, uploaded when they change; null for all 1.
    template <class Loss>
    const double* device_weights(std::span<const double> w) {
        if (w.empty()) return nullptr;
        const std::size_t classes = head == layer_kind::softmax ? output_shape.size() : 2;
        if (w.size() < classes) throw std::invalid_argument("nn::cuda_network: fewer class weights than classes");
        if (!weights_set_ || !std::equal(w.begin(), w.begin() + classes, weights_host_.begin(), weights_host_.end())) {
            weights_host_.assign(w.begin(), w.begin() + classes);
            weights_.reserve(classes);
            weights_.upload(weights_host_);
            weights_set_ = true;
        }
        return weights_.data();
    }

    void ensure_moments(bool adam_moments) {
        if (t_ == 0 || moments_adam_ != adam_moments || m_.capacity() < param_count) {
            m_.reserve(param_count);
            m_.zero(param_count);
            if (adam_moments) {
                v_.reserve(param_count);
                v_.zero(param_count);
            }
            moments_adam_ = adam_moments;
            t_ = 0;
        }
    }

    // ---- forward ----
    const float* run_forward(const float* d_x, std::size_t n, const run_context& rc, std::size_t upto) {
        io_[0] = d_x;
        forward_layers(n, rc, upto, std::make_index_sequence<layer_count>{});
        return io_[upto];
    }
    template <std::size_t... I>
    void forward_layers(std::size_t n, const run_context& rc, std::size_t upto, std::index_sequence<I...>) {
        ((I < upto ? forward_layer<I>(n, rc) : void()), ...);
    }

    template <std::size_t I>
    void forward_layer(std::size_t n, const run_context& rc) {
        using S = slot_at<I>;
        using L = typename S::layer;
        const float* p = params_.data() + S::offset;
        const cuda_detail::layer_args a{ctx_.get(), p, nullptr, io_[I], nullptr, n, rc, I};
        io_[I + 1] = cuda_detail::forward<L>(a, [&] { return act_[I].reserve(n * L::out.size()); }, kind_of<L>{});
    }

    // ---- backward: layers L-2 .. 0 (the head is fused into the loss) ----
    template <std::size_t... R>
    void run_backward(std::size_t n, const float* dz, const run_context& rc, std::index_sequence<R...>) {
        const float* dy = dz;
        constexpr std::size_t top = sizeof...(R) - 1;
        (backward_layer<top - R>(n, dy, rc), ...);
    }

    template <std::size_t I>
    void backward_layer(std::size_t n, const float*& dy, const run_context& rc) {
        using S = slot_at<I>;
        using L = typename S::layer;
        const cuda_detail::layer_args a{ctx_.get(), params_.data() + S::offset, grads_.data() + S::offset,
                                        io_[I], io_[I + 1], n, rc, I};
        dy = cuda_detail::backward<L, (I > 0)>(a, dy, [&] { return other(dy)->reserve(n * L::in.size()); },
                                                kind_of<L>{});
    }

    // The gradient buffer that does not hold dy.
    cuda::device_array<float>* other(const float* dy) { return dy == g0_.data() ? &g1_ : &g0_; }
};

template <class Net>
cuda_network(const Net&, int = -1) -> cuda_network<Net>;

}  // namespace flowpic::nn
