#pragma once
// Element-wise activations and the softmax head. ReLU's backward reads its output (y > 0, as
// PyTorch); sigmoid's backward reads its output too. A final softmax or sigmoid is fused into
// the matching loss during training, so its own backward only serves networks that use it inside.

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "flowpic/nn/kernels/scalar.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/shape.hpp"

namespace flowpic::nn {

namespace detail {
template <layer_kind Kind, shape In>
struct parameterless {
    static constexpr layer_kind kind = Kind;
    static constexpr shape in = In;
    static constexpr std::size_t param_count = 0;
    static constexpr std::size_t macs = 0;
    static std::vector<tensor_info> tensors() { return {}; }
};
}  // namespace detail

struct relu {
    template <shape In>
    static constexpr bool accepts = true;

    template <shape In>
    struct bind : detail::parameterless<layer_kind::relu, In> {
        static constexpr shape out = In;
        static std::string signature() { return "relu"; }
        template <class T>
        static void forward(const T*, const T* x, T* y, std::size_t n, const run_context&) {
            for (std::size_t i = 0; i < n * In.size(); ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
        }
        template <class T>
        static void backward(const T*, const T*, const T* y, const T* dy, T* dx, T*, std::size_t n,
                             const run_context&) {
            if (dx)
                for (std::size_t i = 0; i < n * In.size(); ++i) dx[i] = y[i] > T(0) ? dy[i] : T(0);
        }
    };
};

struct sigmoid {
    template <shape In>
    static constexpr bool accepts = true;

    template <shape In>
    struct bind : detail::parameterless<layer_kind::sigmoid, In> {
        static constexpr shape out = In;
        static std::string signature() { return "sigmoid"; }
        template <class T>
        static void forward(const T*, const T* x, T* y, std::size_t n, const run_context&) {
            for (std::size_t i = 0; i < n * In.size(); ++i) y[i] = kernels::reference::sigmoid(x[i]);
        }
        template <class T>
        static void backward(const T*, const T*, const T* y, const T* dy, T* dx, T*, std::size_t n,
                             const run_context&) {
            if (dx)
                for (std::size_t i = 0; i < n * In.size(); ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
        }
    };
};

// Softmax over the classes of a flat input.
struct softmax {
    template <shape In>
    static constexpr bool accepts = In.flat();

    template <shape In>
    struct bind : detail::parameterless<layer_kind::softmax, In> {
        static_assert(accepts<In>, "nn::softmax: works on a flat vector of class scores; put it after a dense layer");
        static constexpr shape out = In;
        static std::string signature() { return "softmax"; }
        template <class T>
        static void forward(const T*, const T* x, T* y, std::size_t n, const run_context&) {
            kernels::reference::softmax_rows(x, y, n, In.c);
        }
        template <class T>
        static void backward(const T*, const T*, const T* y, const T* dy, T* dx, T*, std::size_t n,
                             const run_context&) {
            if (!dx) return;
            for (std::size_t s = 0; s < n; ++s) {
                kernels::reference::acc_t<T> dot = 0;
                for (std::size_t i = 0; i < In.c; ++i) dot += dy[s * In.c + i] * y[s * In.c + i];
                for (std::size_t i = 0; i < In.c; ++i)
                    dx[s * In.c + i] = static_cast<T>(y[s * In.c + i] * (dy[s * In.c + i] - dot));
            }
        }
    };
};

// Pictures to vectors, in channel-major order (PyTorch's and channels-first Keras' Flatten).
struct flatten {
    template <shape In>
    static constexpr bool accepts = true;

    template <shape In>
    struct bind : detail::parameterless<layer_kind::flatten, In> {
        static constexpr shape out{In.size(), 1, 1};
        static std::string signature() { return "flatten->" + out.str(); }
        template <class T>
        static void forward(const T*, const T* x, T* y, std::size_t n, const run_context&) {
            if (x != y) std::copy(x, x + n * In.size(), y);
        }
        template <class T>
        static void backward(const T*, const T*, const T*, const T* dy, T* dx, T*, std::size_t n,
                             const run_context&) {
            if (dx && dx != dy) std::copy(dy, dy + n * In.size(), dx);
        }
    };
};

}  // namespace flowpic::nn
