#pragma once
// Inverted dropout: during training each element (dropout) or each whole channel (dropout2d,
// PyTorch's Dropout2d) is zeroed with probability Rate and the rest scaled by 1 / (1 - Rate);
// at inference it is the identity. Masks come from a counter hash of (seed, step, layer,
// sample, element), so forward and backward agree without storing them, and every kernel and
// thread count draws the same mask.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/random.hpp"
#include "flowpic/nn/shape.hpp"

namespace flowpic::nn {

namespace detail {

template <layer_kind Kind, double Rate, shape In>
struct dropout_layer {
    static constexpr layer_kind kind = Kind;
    static constexpr shape in = In;
    static constexpr shape out = In;
    static constexpr std::size_t param_count = 0;
    static constexpr std::size_t macs = 0;
    static constexpr double rate = Rate;
    static constexpr std::uint32_t threshold = drop_threshold(Rate);
    static constexpr bool per_channel = Kind == layer_kind::dropout2d;
    static constexpr std::size_t unit = per_channel ? In.h * In.w : 1;  // elements sharing one mask bit

    static std::string signature() {
        return std::string(per_channel ? "dropout2d(" : "dropout(") + std::to_string(Rate) + ")";
    }
    static std::vector<tensor_info> tensors() { return {}; }

    // Scale of element i of sample s: 0 or 1 / (1 - rate).
    template <class T>
    static T scale(const run_context& ctx, std::size_t s, std::size_t i) {
        const auto key = stream_key(ctx.seed, ctx.step, ctx.layer, ctx.sample_base + s);
        return counter_bits(key, i / unit) >= threshold ? T(1.0 / (1.0 - Rate)) : T(0);
    }
    template <class T>
    static void forward(const T*, const T* x, T* y, std::size_t n, const run_context& ctx) {
        for (std::size_t s = 0; s < n; ++s)
            for (std::size_t i = 0; i < In.size(); ++i)
                y[s * In.size() + i] = ctx.training ? x[s * In.size() + i] * scale<T>(ctx, s, i) : x[s * In.size() + i];
    }
    template <class T>
    static void backward(const T*, const T*, const T*, const T* dy, T* dx, T*, std::size_t n, const run_context& ctx) {
        if (!dx) return;
        for (std::size_t s = 0; s < n; ++s)
            for (std::size_t i = 0; i < In.size(); ++i)
                dx[s * In.size() + i] =
                    ctx.training ? dy[s * In.size() + i] * scale<T>(ctx, s, i) : dy[s * In.size() + i];
    }
};

}  // namespace detail

template <double Rate>
struct dropout {
    static_assert(Rate >= 0.0 && Rate < 1.0, "nn::dropout: the rate must be in [0, 1)");
    template <shape In>
    static constexpr bool accepts = true;
    template <shape In>
    struct bind : detail::dropout_layer<layer_kind::dropout, Rate, In> {};
};

template <double Rate>
struct dropout2d {
    static_assert(Rate >= 0.0 && Rate < 1.0, "nn::dropout2d: the rate must be in [0, 1)");
    template <shape In>
    static constexpr bool accepts = true;
    template <shape In>
    struct bind : detail::dropout_layer<layer_kind::dropout2d, Rate, In> {};
};

}  // namespace flowpic::nn
