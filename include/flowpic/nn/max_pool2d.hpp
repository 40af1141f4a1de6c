#pragma once
// Max pooling over Size x Size windows every Stride pixels, floor mode (Keras' and PyTorch's
// default): rows and columns that do not fill a window are dropped.

#include <cstddef>
#include <string>
#include <vector>

#include "flowpic/nn/kernels/geometry.hpp"
#include "flowpic/nn/kernels/scalar.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/shape.hpp"

namespace flowpic::nn {

template <std::size_t Size = 2, std::size_t Stride = Size>
struct max_pool2d {
    static_assert(Size > 0 && Stride > 0, "nn::max_pool2d: window and stride must be positive");

    template <shape In>
    static constexpr bool accepts = In.h >= Size && In.w >= Size;

    template <shape In>
    struct bind {
        static_assert(accepts<In>, "nn::max_pool2d: the input is smaller than the pooling window "
                                   "(pooling cannot follow flatten or dense)");
        static constexpr kernels::pool_geometry geo{In.c, In.h, In.w, Size, Stride, (In.h - Size) / Stride + 1,
                                                    (In.w - Size) / Stride + 1};
        static constexpr layer_kind kind = layer_kind::max_pool2d;
        static constexpr shape in = In;
        static constexpr shape out{In.c, geo.oh, geo.ow};
        static constexpr std::size_t param_count = 0;
        static constexpr std::size_t macs = 0;

        static std::string signature() {
            return "max_pool2d(" + std::to_string(Size) + ",s" + std::to_string(Stride) + ")->" + out.str();
        }
        static std::vector<tensor_info> tensors() { return {}; }
        template <class T>
        static void forward(const T*, const T* x, T* y, std::size_t n, const run_context&) {
            kernels::reference::max_pool_forward(geo, x, y, n);
        }
        template <class T>
        static void backward(const T*, const T* x, const T*, const T* dy, T* dx, T*, std::size_t n,
                             const run_context&) {
            if (dx) kernels::reference::max_pool_backward(geo, x, dy, dx, n);
        }
    };
};

}  // namespace flowpic::nn
