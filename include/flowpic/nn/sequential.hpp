#pragma once
// nn::sequential<nn::input<C, H, W>, Layers...>: a network composed at compile time. Every
// shape is inferred from the input and checked as the layers are bound (a wrong composition is
// a static_assert naming the layer's problem); parameter and multiply-add counts are constexpr.
// The network owns one flat parameter buffer (PyTorch layout, layer after layer) and its
// gradient; inference and training run on the scalar oracle or the fast kernels, chosen by tag:
//
//   nn::presets::shapira2019<5> net(nn::init_scheme::glorot_uniform, 42);
//   net.predict(pictures, n, probabilities);                       // fast kernels, all threads
//   net.predict(pictures, n, probabilities, nn::kernels::scalar{}); // the oracle
//   double loss = net.gradient(pictures, n, targets, nn::categorical_crossentropy{}, ctx);
//   net.predict(pictures, n, probabilities, backend::cuda{});      // the GPU (link flowpic::cuda)
//
// Thread use (kernels::tbb): a batch is cut into chunks whose size depends only on the network,
// chunk gradients are summed in a fixed order, so results do not depend on the thread count.
// One network object must not run two calls at once (it keeps its workspaces).
//
// backend::cuda runs the hand-written CUDA kernels through a device twin (nn::cuda_network) made
// on first use; the parameters go up again after every change on the host. Training loops that
// should keep the parameters on the device use nn::cuda_network, or train::fit with the tag.

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

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include "flowpic/nn/activation.hpp"
#include "flowpic/nn/conv2d.hpp"
#include "flowpic/nn/cuda_network.hpp"
#include "flowpic/nn/dense.hpp"
#include "flowpic/nn/dropout.hpp"
#include "flowpic/nn/engine.hpp"
#include "flowpic/nn/init.hpp"
#include "flowpic/nn/kernels/tags.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/loss.hpp"
#include "flowpic/nn/max_pool2d.hpp"
#include "flowpic/nn/shape.hpp"
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

template <std::size_t I, class List>
struct at;
template <std::size_t I, class... S>
struct at<I, type_list<S...>> {
    using type = std::tuple_element_t<I, std::tuple<S...>>;
};

template <class List>
struct last_of;
template <class... S>
struct last_of<type_list<S...>> {
    using type = std::tuple_element_t<sizeof...(S) - 1, std::tuple<S...>>;
};

// Network state that is not copied with the parameters: packed weights and workspaces.
template <class Engine>
struct fast_state {
    Engine engine;
    oneapi::tbb::enumerable_thread_specific<typename Engine::workspace> workspaces;
    oneapi::tbb::enumerable_thread_specific<kernels::vectorised::fused_scratch> scratch;
    std::vector<std::vector<float>> group_grads;
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
    // Samples per chunk of the fast kernels: about 4 M multiply-adds, never fewer than one.
    static constexpr std::size_t chunk = std::clamp<std::size_t>(4'000'000 / (macs ? macs : 1), 1, 64);
    // Chunk gradients are summed into this many buffers, each in a fixed order.
    static constexpr std::size_t gradient_groups = 8;

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
        invalidate();
        return *this;
    }
    ~basic_sequential() = default;
    basic_sequential(basic_sequential&&) noexcept = default;
    basic_sequential& operator=(basic_sequential&&) noexcept = default;

    // Mutable access marks packed weights stale.
    [[nodiscard]] std::span<T> params() {
        invalidate();
        return {params_.data(), param_count};
    }
    [[nodiscard]] std::span<const T> params() const { return {params_.data(), param_count}; }
    [[nodiscard]] std::span<T> grads() { return {grads_.data(), param_count}; }
    [[nodiscard]] std::span<const T> grads() const { return {grads_.data(), param_count}; }
    void invalidate() noexcept {
        packed_ = false;
        device_current_ = false;
    }

    void init(init_scheme scheme, std::uint64_t seed) {
        rng r(seed);
        init_layers(scheme, r, std::make_index_sequence<layer_count>{});
        invalidate();
    }

    // Outputs of the last layer (probabilities when it is softmax or sigmoid) for n samples.
    template <kernels::kernel_tag K = kernels::fast>
    void predict(const T* x, std::size_t n, T* out, K tag = {}) {
        forward(x, n, out, run_context{}, tag);
    }
    template <kernels::kernel_tag K = kernels::fast>
    void predict(std::span<const T> x, std::span<T> out, K tag = {}) {
        const std::size_t n = x.size() / input_shape.size();
        if (x.size() != n * input_shape.size() || out.size() < n * output_shape.size())
            throw std::invalid_argument("nn::sequential::predict: spans do not match the network's shapes");
        predict(x.data(), n, out.data(), tag);
    }

    // Forward pass with an explicit context (training = true draws dropout masks).
    template <kernels::kernel_tag K = kernels::fast>
    void forward(const T* x, std::size_t n, T* out, const run_context& ctx, K = {}) {
        if (n == 0) return;
        if constexpr (std::derived_from<K, backend::cuda>) {
            static_assert(std::is_same_v<T, float>, "nn: the CUDA kernels run in float; use kernels::scalar");
            device().predict(x, n, out, ctx);
        } else if constexpr (kernels::is_vectorised<K>) {
            static_assert(std::is_same_v<T, float>, "nn: the vectorised kernels run in float; use kernels::scalar");
            fast_forward<K>(x, n, out, ctx);
        } else {
            scalar_pass(x, n, out, ctx, nullptr, static_cast<categorical_crossentropy*>(nullptr), nullptr, nullptr);
        }
    }

    // Gradient of the loss' batch mean with respect to every parameter, into grads(); returns
    // the mean loss. The head (softmax or sigmoid) is fused into the loss. dinput, when given,
    // receives the gradient with respect to the input (scalar kernels only).
    template <loss_function Loss, kernels::kernel_tag K = kernels::fast>
    double gradient(const T* x, std::size_t n, const targets& t, const Loss& loss, const run_context& ctx, K = {},
                    T* dinput = nullptr) {
        static_assert(head == Loss::head, "nn::sequential::gradient: the loss does not match the network's last layer "
                                          "(categorical_crossentropy needs softmax, binary_crossentropy sigmoid)");
        if (t.labels.size() < n) throw std::invalid_argument("nn::sequential::gradient: fewer labels than samples");
        std::fill(grads_.begin(), grads_.end(), T(0));
        if (n == 0) return 0.0;
        const double norm = Loss::normalizer(t, n);
        if (!(norm > 0)) throw std::invalid_argument("nn::sequential::gradient: the class weights of the batch sum to 0");
        if constexpr (std::derived_from<K, backend::cuda>) {
            static_assert(std::is_same_v<T, float>, "nn: the CUDA kernels run in float; use kernels::scalar");
            if (dinput) throw std::invalid_argument("nn::sequential::gradient: input gradients need kernels::scalar");
            auto& d = device();
            const double l = d.gradient(x, n, t, Loss{}, ctx);
            d.download_grads(grads());
            return l;
        } else if constexpr (kernels::is_vectorised<K>) {
            static_assert(std::is_same_v<T, float>, "nn: the vectorised kernels run in float; use kernels::scalar");
            if (dinput) throw std::invalid_argument("nn::sequential::gradient: input gradients need kernels::scalar");
            return fast_gradient<K>(x, n, t, loss, norm, ctx);
        } else {
            double sum = 0;
            std::vector<T> out(n * output_shape.size());
            scalar_pass(x, n, out.data(), ctx, &sum, &loss, &t, dinput, norm);
            return sum / norm;
        }
    }

    // Mean loss of a batch without gradients (dropout as ctx says, off by default); probs, when
    // given, receives the network's outputs.
    template <loss_function Loss, kernels::kernel_tag K = kernels::fast>
    double loss(const T* x, std::size_t n, const targets& t, const Loss&, T* probs = nullptr,
                const run_context& ctx = {}, K = {}) {
        static_assert(head == Loss::head, "nn::sequential::loss: the loss does not match the network's last layer");
        if (t.labels.size() < n) throw std::invalid_argument("nn::sequential::loss: fewer labels than samples");
        if (n == 0) return 0.0;
        const double norm = Loss::normalizer(t, n);
        if (!(norm > 0)) throw std::invalid_argument("nn::sequential::loss: the class weights of the batch sum to 0");
        constexpr std::size_t L = layer_count, classes = output_shape.size();
        using head_layer = typename slot_at<L - 1>::layer;
        double sum = 0;
        if constexpr (std::derived_from<K, backend::cuda>) {
            static_assert(std::is_same_v<T, float>, "nn: the CUDA kernels run in float; use kernels::scalar");
            return device().loss(x, n, t, Loss{}, probs, ctx);
        } else if constexpr (kernels::is_vectorised<K>) {
            static_assert(std::is_same_v<T, float>, "nn: the vectorised kernels run in float; use kernels::scalar");
            auto& st = fast();
            const std::size_t chunks = (n + chunk - 1) / chunk;
            std::vector<double> sums(chunks, 0.0);
            auto run_chunk = [&](std::size_t c) {
                auto& ws = st.workspaces.local();
                const std::size_t s0 = c * chunk, m = std::min(chunk, n - s0);
                run_context cc = ctx;
                cc.sample_base = ctx.sample_base + s0;
                const float* z = st.engine.forward(params_.data(), x + s0 * input_shape.size(), m, cc, ws, engine_t::count - 1);
                sums[c] = Loss::evaluate(z, m, classes, t, s0, norm, static_cast<float*>(nullptr));
                if (probs) head_layer::template forward<float>(nullptr, z, probs + s0 * classes, m, cc);
            };
            if constexpr (std::derived_from<K, kernels::tbb>) {
                oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, chunks, 1), [&](const auto& r) {
                    for (std::size_t c = r.begin(); c < r.end(); ++c) run_chunk(c);
                });
            } else {
                for (std::size_t c = 0; c < chunks; ++c) run_chunk(c);
            }
            for (double v : sums) sum += v;
        } else {
            act_list acts(L);
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                ((I + 1 < L ? scalar_forward_layer<I>(x, n, ctx, acts) : void()), ...);
            }(std::make_index_sequence<L>{});
            const T* z = L >= 2 ? acts[L - 2].data() : x;
            sum = Loss::evaluate(z, n, classes, t, 0, norm, static_cast<T*>(nullptr));
            if (probs) head_layer::template forward<T>(nullptr, z, probs, n, ctx);
        }
        return sum / norm;
    }

private:
    template <std::size_t I>
    using slot_at = typename detail::at<I, slots>::type;
    using engine_t = detail::engine<stages>;

    std::vector<T> params_;
    std::vector<T> grads_;
    // Packed weights and workspaces of the fast kernels, made on first use. Type-erased so that
    // code which never runs them (model files, weight import) does not compile them either.
    std::unique_ptr<void, void (*)(void*)> fast_{nullptr, nullptr};
    bool packed_ = false;
    // The device twin of backend::cuda, made on first use (type-erased for the same reason).
    std::unique_ptr<void, void (*)(void*)> device_{nullptr, nullptr};
    bool device_current_ = false;

    cuda_network<basic_sequential>& device() {
        using twin = cuda_network<basic_sequential>;
        if (!device_)
            device_ = std::unique_ptr<void, void (*)(void*)>(new twin(), [](void* p) { delete static_cast<twin*>(p); });
        auto& d = *static_cast<twin*>(device_.get());
        if (!device_current_) {
            d.upload(std::span<const T>(params_.data(), param_count));
            device_current_ = true;
        }
        return d;
    }

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

    // ---- scalar oracle: layer by layer over the whole batch ----
    using act_list = std::vector<std::vector<T>>;

    template <std::size_t I>
    void scalar_forward_layer(const T* x, std::size_t n, const run_context& ctx, act_list& acts) {
        using Lr = typename slot_at<I>::layer;
        acts[I].resize(n * Lr::out.size());
        const T* in = I == 0 ? x : acts[I == 0 ? 0 : I - 1].data();
        run_context c = ctx;
        c.layer = I;
        Lr::template forward<T>(params_.data() + slot_at<I>::offset, in, acts[I].data(), n, c);
    }

    template <std::size_t I>
    void scalar_backward_layer(const T* x, std::size_t n, const run_context& ctx, act_list& acts, std::vector<T>& dy,
                               T* dinput) {
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
        Lr::template backward<T>(params_.data() + slot_at<I>::offset, in, acts[I].data(), dy.data(), dxp,
                                 grads_.data() + slot_at<I>::offset, n, c);
        if constexpr (I > 0) dy = std::move(dx);
    }

    template <class Loss>
    void scalar_pass(const T* x, std::size_t n, T* out, const run_context& ctx, double* loss_sum, const Loss*,
                     const targets* t, T* dinput, double norm = 1.0) {
        constexpr std::size_t L = layer_count;
        const bool train = loss_sum != nullptr;
        act_list acts(L);  // acts[i]: output of layer i
        const std::size_t stop = train ? L - 1 : L;  // the head is fused into the loss
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            ((I < stop ? scalar_forward_layer<I>(x, n, ctx, acts) : void()), ...);
        }(std::make_index_sequence<L>{});
        if (!train) {
            std::copy(acts[L - 1].begin(), acts[L - 1].end(), out);
            return;
        }
        if constexpr (L >= 2) {
            constexpr std::size_t classes = output_shape.size();
            std::vector<T> dy(n * classes);
            *loss_sum = Loss::evaluate(acts[L - 2].data(), n, classes, *t, 0, norm, dy.data());
            [&]<std::size_t... R>(std::index_sequence<R...>) {
                (scalar_backward_layer<L - 2 - R>(x, n, ctx, acts, dy, dinput), ...);
            }(std::make_index_sequence<L - 1>{});
        }
    }

    // ---- fast kernels ----
    detail::fast_state<engine_t>& fast() {
        using state = detail::fast_state<engine_t>;
        if (!fast_)
            fast_ = std::unique_ptr<void, void (*)(void*)>(new state(), [](void* p) { delete static_cast<state*>(p); });
        auto& st = *static_cast<state*>(fast_.get());
        if (!packed_) {
            st.engine.prepare(reinterpret_cast<const float*>(params_.data()));
            packed_ = true;
        }
        return st;
    }

    template <class K>
    void fast_forward(const float* x, std::size_t n, float* out, const run_context& ctx) {
        auto& st = fast();
        const std::size_t chunks = (n + chunk - 1) / chunk;
        const float* p = params_.data();
        constexpr std::size_t isz = input_shape.size(), osz = output_shape.size();
        auto run_chunk = [&](std::size_t c) {
            auto& ws = st.workspaces.local();
            const std::size_t s0 = c * chunk, m = std::min(chunk, n - s0);
            run_context cc = ctx;
            cc.sample_base = ctx.sample_base + s0;
            const float* y = st.engine.forward(p, x + s0 * isz, m, cc, ws);
            std::copy(y, y + m * osz, out + s0 * osz);
        };
        if constexpr (std::derived_from<K, kernels::tbb>) {
            const auto threads = static_cast<std::size_t>(oneapi::tbb::this_task_arena::max_concurrency());
            if (chunks < threads && stage_t<0>::conv && !ctx.training) {
                row_parallel_forward(st, x, n, out, ctx);
                return;
            }
            oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, chunks, 1), [&](const auto& r) {
                for (std::size_t c = r.begin(); c < r.end(); ++c) run_chunk(c);
            });
        } else {
            for (std::size_t c = 0; c < chunks; ++c) run_chunk(c);
        }
    }

    template <std::size_t I>
    using stage_t = typename engine_t::template stage<I>;

    // Batches smaller than the machine: each conv stage spreads its output rows over threads,
    // the small stages between and after them run on this one. Same arithmetic as the chunks.
    // (Stages are member templates, not lambdas expanded in a fold: GCC may number such lambdas
    // differently in two translation units, and the linker would then merge different code.)
    void row_parallel_forward(detail::fast_state<engine_t>& st, const float* x, std::size_t n, float* out,
                              const run_context& ctx) {
        auto& ws = st.workspaces.local();
        ws.io[0] = x;
        row_parallel_stages(st, ws, n, ctx, std::make_index_sequence<engine_t::count>{});
        std::copy(ws.io[engine_t::count], ws.io[engine_t::count] + n * output_shape.size(), out);
    }
    template <std::size_t... I>
    void row_parallel_stages(detail::fast_state<engine_t>& st, typename engine_t::workspace& ws, std::size_t n,
                             const run_context& ctx, std::index_sequence<I...>) {
        (row_parallel_stage<I>(st, ws, n, ctx), ...);
    }
    template <std::size_t I>
    void row_parallel_stage(detail::fast_state<engine_t>& st, typename engine_t::workspace& ws, std::size_t n,
                            const run_context& ctx) {
        using S = stage_t<I>;
        const float* p = params_.data();
        if constexpr (S::conv) {
            float* y = engine_t::sized(ws.act[I], n * S::out.size() + detail::slack);
            const std::size_t rows = st.engine.template conv_out_rows<I>();
            const std::size_t band = std::max<std::size_t>(1, rows / 32);
            const std::size_t bands = (rows + band - 1) / band;
            const float* in = ws.io[I];
            oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, n * bands, 1), [&](const auto& r) {
                auto& fs = st.scratch.local();
                for (std::size_t i = r.begin(); i < r.end(); ++i) {
                    const std::size_t s = i / bands, b = i % bands;
                    // inference: no backward follows, so no pooling winners
                    st.engine.template conv_rows<I>(p, in, y, nullptr, b * band, std::min(rows, (b + 1) * band), ctx,
                                                    s, fs);
                }
            });
            ws.io[I + 1] = y;
        } else {
            st.engine.template forward_stage<I>(p, n, ctx, ws);
        }
    }

    template <class K, class Loss>
    double fast_gradient(const float* x, std::size_t n, const targets& t, const Loss&, double norm,
                         const run_context& ctx) {
        auto& st = fast();
        constexpr std::size_t isz = input_shape.size(), classes = output_shape.size();
        constexpr std::size_t last = engine_t::count - 2;  // the stage before the head
        static_assert(engine_t::count >= 2, "nn: training needs at least one layer before the head");
        const std::size_t chunks = (n + chunk - 1) / chunk;
        const std::size_t groups = std::min(gradient_groups, chunks);
        if (st.group_grads.size() < groups) st.group_grads.resize(groups);
        std::vector<double> losses(chunks, 0.0);
        const float* p = params_.data();
        auto run_group = [&](std::size_t g) {
            auto& ws = st.workspaces.local();
            auto& gg = st.group_grads[g];
            gg.assign(param_count + detail::slack, 0.0f);
            std::vector<float> dlogits(chunk * classes + detail::slack);
            for (std::size_t c = g; c < chunks; c += groups) {
                const std::size_t s0 = c * chunk, m = std::min(chunk, n - s0);
                run_context cc = ctx;
                cc.sample_base = ctx.sample_base + s0;
                const float* logits = st.engine.forward(p, x + s0 * isz, m, cc, ws, last + 1, true);
                losses[c] = Loss::evaluate(logits, m, classes, t, s0, norm, dlogits.data());
                st.engine.backward(p, m, dlogits.data(), last, gg.data(), cc, ws);
            }
        };
        if constexpr (std::derived_from<K, kernels::tbb>) {
            oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, groups, 1), [&](const auto& r) {
                for (std::size_t g = r.begin(); g < r.end(); ++g) run_group(g);
            });
            oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, param_count, 4096), [&](const auto& r) {
                for (std::size_t g = 0; g < groups; ++g)
                    for (std::size_t i = r.begin(); i < r.end(); ++i) grads_[i] += st.group_grads[g][i];
            });
        } else {
            for (std::size_t g = 0; g < groups; ++g) run_group(g);
            for (std::size_t g = 0; g < groups; ++g)
                for (std::size_t i = 0; i < param_count; ++i) grads_[i] += st.group_grads[g][i];
        }
        double sum = 0;
        for (double l : losses) sum += l;
        return sum / norm;
    }
};

template <class Input, class... Specs>
using sequential = basic_sequential<float, Input, Specs...>;

}  // namespace flowpic::nn
