#pragma once
// nn::sequential<nn::input<C, H, W>, Layers...>: a network composed at compile time. Every
// shape is inferred from the input and checked as the layers are bound (a wrong composition is
// a static_assert naming the layer's problem); parameter and multiply-add counts are constexpr.
// The network is a description (layers, shapes, signature, parameter tensors, initialisation)
// and one flat parameter buffer (PyTorch layout, layer after layer) with its gradient. Running
// it is an executor's job (nn/executor/executor.hpp), chosen by the backend tag; the members
// below only check their arguments and call it:
//
//   nn::networks::shapira2019<5> net(nn::init_scheme::glorot_uniform, 42);
//   net.predict(pictures, n, probabilities);                        // backend::default_backend
//   net.predict(pictures, n, probabilities, backend::scalar{});     // the oracle
//   double loss = net.gradient(pictures, n, targets, nn::categorical_crossentropy{}, ctx);
//   net.predict(pictures, n, probabilities, backend::cuda{});       // the GPU (link flowpic::cuda)
//
// One network object must not run two calls at once (its executors keep workspaces).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/nn/activation.hpp"
#include "flowpic/nn/conv2d.hpp"
#include "flowpic/nn/dense.hpp"
#include "flowpic/nn/dropout.hpp"
#include "flowpic/nn/executor/cache.hpp"
#include "flowpic/nn/executor/executor.hpp"
#include "flowpic/nn/executor/sparse.hpp"
#include "flowpic/nn/init.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/loss.hpp"
#include "flowpic/nn/max_pool2d.hpp"
#include "flowpic/nn/shape.hpp"
#include "flowpic/nn/sparse_input.hpp"
#include "flowpic/nn/stages.hpp"

namespace flowpic::nn {

namespace detail {

template <shape In, std::size_t I, std::size_t Offset, class... Specs>
struct chain {
    using type = type_list<>;
    static constexpr shape out = In;
};

template <shape In, std::size_t I, std::size_t Offset, class S, class... Rest>
struct chain<In, I, Offset, S, Rest...> {
    static_assert(layer_spec<S>, "nn::sequential: every element after nn::input must be a layer "
                                 "(nn::conv2d, nn::max_pool2d, nn::relu, nn::dense, ...)");
    static_assert(S::template accepts<In>, "nn::sequential: a layer cannot take the output shape of the layer "
                                           "before it (its own message follows)");
    using L = typename S::template bind<In>;
    static_assert(bound_layer<L>, "nn::sequential: S::bind<In> is not a complete layer");
    using next = chain<L::out, I + 1, Offset + L::param_count, Rest...>;
    using type = typename concat<type_list<slot<I, Offset, L>>, typename next::type>::type;
    static constexpr shape out = next::out;
};

template <class List>
struct last_of;
template <class... S>
struct last_of<type_list<S...>> {
    using type = std::tuple_element_t<sizeof...(S) - 1, std::tuple<S...>>;
};

}  // namespace detail

template <class T, class Input, class... Specs>
class basic_sequential;

template <class T, std::size_t C, std::size_t H, std::size_t W, class... Specs>
class basic_sequential<T, input<C, H, W>, Specs...> {
    static_assert(std::is_floating_point_v<T>, "nn::sequential: the value type must be float or double");
    static_assert(sizeof...(Specs) > 0, "nn::sequential: a network needs at least one layer after nn::input");
    using chain = detail::chain<shape{C, H, W}, 0, 0, Specs...>;

public:
    using value_type = T;
    using slots = typename chain::type;
    using stages = stages_of<slots>;
    template <class U>
    using rebind = basic_sequential<U, input<C, H, W>, Specs...>;

    static constexpr shape input_shape{C, H, W};
    static constexpr shape output_shape = chain::out;
    static constexpr std::size_t layer_count = sizeof...(Specs);
    static constexpr std::size_t param_count = [] {
        return [] <class... S>(type_list<S...>) { return (S::layer::param_count + ... + 0); }(slots{});
    }();
    static constexpr std::size_t macs = [] {
        return [] <class... S>(type_list<S...>) { return (S::layer::macs + ... + 0); }(slots{});
    }();
    static constexpr layer_kind head = detail::last_of<slots>::type::layer::kind;
    static constexpr bool has_head = head == layer_kind::softmax || head == layer_kind::sigmoid;

    // "input(1x1500x1500);conv2d(10,k10,s5,pad 2/3/2/3)->10x300x300;relu;..." : what a model file
    // must match.
    static std::string signature() {
        std::string s = "input(" + input_shape.str() + ")";
        [&]<class... S>(type_list<S...>) { ((s += ";" + S::layer::signature()), ...); }(slots{});
        return s;
    }

    // Every parameter tensor in forward order.
    static std::vector<parameter_tensor> tensors() {
        std::vector<parameter_tensor> out;
        std::size_t group = 0;
        add_tensors(out, group, std::make_index_sequence<layer_count>{});
        return out;
    }

    basic_sequential() : params_(param_count + detail::slack, T(0)), grads_(param_count + detail::slack, T(0)) {}
    basic_sequential(init_scheme scheme, std::uint64_t seed) : basic_sequential() { init(scheme, seed); }
    basic_sequential(const basic_sequential& o) : params_(o.params_), grads_(o.grads_) {}
    basic_sequential& operator=(const basic_sequential& o) {
        params_ = o.params_;
        grads_ = o.grads_;
        executors_ = o.executors_;  // drops this network's executors
        invalidate();
        return *this;
    }
    ~basic_sequential() = default;
    basic_sequential(basic_sequential&&) noexcept = default;
    basic_sequential& operator=(basic_sequential&&) noexcept = default;

    // Mutable access makes the executors reload the parameters before their next run.
    [[nodiscard]] std::span<T> params() {
        invalidate();
        return {params_.data(), param_count};
    }
    [[nodiscard]] std::span<const T> params() const { return {params_.data(), param_count}; }
    [[nodiscard]] std::span<T> grads() { return {grads_.data(), param_count}; }
    [[nodiscard]] std::span<const T> grads() const { return {grads_.data(), param_count}; }
    void invalidate() noexcept { ++version_; }

    void init(init_scheme scheme, std::uint64_t seed) {
        rng r(seed);
        init_layers(scheme, r, std::make_index_sequence<layer_count>{});
        invalidate();
    }

    // Outputs of the last layer (probabilities when it is softmax or sigmoid) for n samples.
    template <backend::backend_tag B = backend::default_backend>
    void predict(const T* x, std::size_t n, T* out, B tag = {}) {
        forward(x, n, out, run_context{}, tag);
    }
    template <backend::backend_tag B = backend::default_backend>
    void predict(std::span<const T> x, std::span<T> out, B tag = {}) {
        const std::size_t n = x.size() / input_shape.size();
        if (x.size() != n * input_shape.size() || out.size() < n * output_shape.size())
            throw std::invalid_argument("nn::sequential::predict: spans do not match the network's shapes");
        predict(x.data(), n, out.data(), tag);
    }

    // Forward pass with an explicit context (training = true draws dropout masks).
    template <backend::backend_tag B = backend::default_backend>
    void forward(const T* x, std::size_t n, T* out, const run_context& ctx, B tag = {}) {
        if (n == 0) return;
        executor_for(*this, tag).forward(*this, x, n, out, ctx, tag);
    }

    // Gradient of the loss' batch mean with respect to every parameter, into grads(); returns
    // the mean loss. The head (softmax or sigmoid) is fused into the loss. dinput, when given,
    // receives the gradient with respect to the input (backend::scalar only).
    template <loss_function Loss, backend::backend_tag B = backend::default_backend>
    double gradient(const T* x, std::size_t n, const targets& t, const Loss& loss, const run_context& ctx, B tag = {},
                    T* dinput = nullptr) {
        static_assert(head == Loss::head, "nn::sequential::gradient: the loss does not match the network's last layer "
                                          "(categorical_crossentropy needs softmax, binary_crossentropy sigmoid)");
        if (t.labels.size() < n) throw std::invalid_argument("nn::sequential::gradient: fewer labels than samples");
        std::fill(grads_.begin(), grads_.end(), T(0));
        if (n == 0) return 0.0;
        const double norm = Loss::normalizer(t, n);
        if (!(norm > 0)) throw std::invalid_argument("nn::sequential::gradient: the class weights of the batch sum to 0");
        return executor_for(*this, tag).gradient(*this, x, n, t, loss, norm, ctx, dinput, tag);
    }

    // Mean loss of a batch without gradients (dropout as ctx says, off by default); probs, when
    // given, receives the network's outputs.
    template <loss_function Loss, backend::backend_tag B = backend::default_backend>
    double loss(const T* x, std::size_t n, const targets& t, const Loss& loss_fn, T* probs = nullptr,
                const run_context& ctx = {}, B tag = {}) {
        static_assert(head == Loss::head, "nn::sequential::loss: the loss does not match the network's last layer");
        if (t.labels.size() < n) throw std::invalid_argument("nn::sequential::loss: fewer labels than samples");
        if (n == 0) return 0.0;
        const double norm = Loss::normalizer(t, n);
        if (!(norm > 0)) throw std::invalid_argument("nn::sequential::loss: the class weights of the batch sum to 0");
        return executor_for(*this, tag).loss(*this, x, n, t, loss_fn, norm, probs, ctx, tag);
    }

    // The same on a sparse batch (nn/sparse_input.hpp): the first convolution reads the cells
    // (nn/executor/sparse.hpp); results equal the dense input's up to float summation order.
    template <backend::backend_tag B = backend::default_backend>
    void predict(const sparse_batch& x, T* out, B tag = {}) {
        forward(x, out, run_context{}, tag);
    }
    template <backend::backend_tag B = backend::default_backend>
    void forward(const sparse_batch& x, T* out, const run_context& ctx, B tag = {}) {
        check_sparse(x);
        if (x.empty()) return;
        sparse_executor_for(*this, tag).forward(*this, x, out, ctx, tag);
    }
    template <loss_function Loss, backend::backend_tag B = backend::default_backend>
    double gradient(const sparse_batch& x, const targets& t, const Loss& loss, const run_context& ctx, B tag = {}) {
        static_assert(head == Loss::head, "nn::sequential::gradient: the loss does not match the network's last layer "
                                          "(categorical_crossentropy needs softmax, binary_crossentropy sigmoid)");
        check_sparse(x);
        const std::size_t n = x.size();
        if (t.labels.size() < n) throw std::invalid_argument("nn::sequential::gradient: fewer labels than samples");
        std::fill(grads_.begin(), grads_.end(), T(0));
        if (n == 0) return 0.0;
        const double norm = Loss::normalizer(t, n);
        if (!(norm > 0)) throw std::invalid_argument("nn::sequential::gradient: the class weights of the batch sum to 0");
        return sparse_executor_for(*this, tag).gradient(*this, x, t, loss, norm, ctx, tag);
    }
    template <loss_function Loss, backend::backend_tag B = backend::default_backend>
    double loss(const sparse_batch& x, const targets& t, const Loss& loss_fn, T* probs = nullptr,
                const run_context& ctx = {}, B tag = {}) {
        static_assert(head == Loss::head, "nn::sequential::loss: the loss does not match the network's last layer");
        check_sparse(x);
        const std::size_t n = x.size();
        if (t.labels.size() < n) throw std::invalid_argument("nn::sequential::loss: fewer labels than samples");
        if (n == 0) return 0.0;
        const double norm = Loss::normalizer(t, n);
        if (!(norm > 0)) throw std::invalid_argument("nn::sequential::loss: the class weights of the batch sum to 0");
        return sparse_executor_for(*this, tag).loss(*this, x, t, loss_fn, norm, probs, ctx, tag);
    }

    // The executors this network made on first use (nn::executor_for), and the version of its
    // parameters, raised by every mutable access.
    [[nodiscard]] detail::executor_cache& executors() noexcept { return executors_; }
    [[nodiscard]] std::uint64_t version() const noexcept { return version_; }

private:
    static void check_sparse(const sparse_batch& x) {
        if (x.channels() != C || x.height() != H || x.width() != W)
            throw std::invalid_argument("nn::sequential: the sparse batch's pictures are not " + input_shape.str());
    }

    template <std::size_t I>
    using slot_at = typename type_at<I, slots>::type;

    std::vector<T> params_;
    std::vector<T> grads_;
    std::uint64_t version_ = 0;
    detail::executor_cache executors_;

    template <std::size_t... I>
    static void add_tensors(std::vector<parameter_tensor>& out, std::size_t& group, std::index_sequence<I...>) {
        (add_layer_tensors<I>(out, group), ...);
    }
    template <std::size_t I>
    static void add_layer_tensors(std::vector<parameter_tensor>& out, std::size_t& group) {
        using S = slot_at<I>;
        if constexpr (S::layer::param_count > 0) {
            for (auto& t : S::layer::tensors()) out.push_back({group, S::index, t, S::offset + t.offset});
            ++group;
        }
    }
    template <std::size_t... I>
    void init_layers(init_scheme scheme, rng& r, std::index_sequence<I...>) {
        (init_layer<typename slot_at<I>::layer>(params_.data() + slot_at<I>::offset, scheme, r), ...);
    }
};

template <class Input, class... Specs>
using sequential = basic_sequential<float, Input, Specs...>;

}  // namespace flowpic::nn
