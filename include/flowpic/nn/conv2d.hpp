#pragma once
// 2-D convolution, channels first: Filters square kernels of Kernel x Kernel, stride Stride,
// zero padding chosen by a policy (valid, Keras' same, symmetric<P>, explicit_pads<...>).

#include <cstddef>
#include <string>
#include <vector>

#include "flowpic/nn/kernels/geometry.hpp"
#include "flowpic/nn/kernels/scalar.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/padding.hpp"
#include "flowpic/nn/shape.hpp"

namespace flowpic::nn {

template <std::size_t Filters, std::size_t Kernel, std::size_t Stride = 1, padding_policy Padding = padding::valid>
struct conv2d {
    static_assert(Filters > 0, "nn::conv2d: at least one filter");
    static_assert(Kernel > 0, "nn::conv2d: the kernel must be at least 1x1");
    static_assert(Stride > 0, "nn::conv2d: the stride must be at least 1");

    template <shape In>
    static constexpr pads pads_for = Padding::compute(In.h, In.w, Kernel, Kernel, Stride, Stride);

    template <shape In>
    static constexpr bool accepts = In.h + pads_for<In>.top + pads_for<In>.bottom >= Kernel &&
                                    In.w + pads_for<In>.left + pads_for<In>.right >= Kernel;

    template <shape In>
    struct bind {
        static_assert(accepts<In>,
                      "nn::conv2d: the kernel is larger than the (padded) input; a conv2d cannot follow "
                      "flatten or dense, and its input must be at least kernel x kernel");
        static constexpr pads p = pads_for<In>;
        static constexpr kernels::conv_geometry geo{In.c, In.h, In.w, Filters, Kernel, Kernel, Stride, Stride,
                                                    p.top, p.bottom, p.left, p.right,
                                                    (In.h + p.top + p.bottom - Kernel) / Stride + 1,
                                                    (In.w + p.left + p.right - Kernel) / Stride + 1};
        static constexpr layer_kind kind = layer_kind::conv2d;
        static constexpr shape in = In;
        static constexpr shape out{Filters, geo.oh, geo.ow};
        static constexpr std::size_t weight_count = geo.weight_size();
        static constexpr std::size_t param_count = weight_count + Filters;
        static constexpr std::size_t macs = geo.out_size() * geo.k();
        static constexpr std::size_t fan_in = In.c * Kernel * Kernel;
        static constexpr std::size_t fan_out = Filters * Kernel * Kernel;

        static std::string signature() {
            return "conv2d(" + std::to_string(Filters) + ",k" + std::to_string(Kernel) + ",s" +
                   std::to_string(Stride) + ",pad " + std::to_string(p.top) + "/" + std::to_string(p.bottom) + "/" +
                   std::to_string(p.left) + "/" + std::to_string(p.right) + ")->" + out.str();
        }
        static std::vector<tensor_info> tensors() {
            return {{"weight", {Filters, In.c, Kernel, Kernel}, 0}, {"bias", {Filters}, weight_count}};
        }
        template <class T>
        static void forward(const T* params, const T* x, T* y, std::size_t n, const run_context&) {
            kernels::reference::conv2d_forward(geo, params, params + weight_count, x, y, n);
        }
        template <class T>
        static void backward(const T* params, const T* x, const T*, const T* dy, T* dx, T* dparams, std::size_t n,
                             const run_context&) {
            kernels::reference::conv2d_backward(geo, params, x, dy, dx, dparams, dparams + weight_count, n);
        }
    };
};

}  // namespace flowpic::nn
