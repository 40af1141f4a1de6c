#pragma once
// Fully connected layer on a flat input (insert nn::flatten after pictures): y = W x + b with W
// stored [out][in] as PyTorch's nn.Linear (Keras' Dense kernel is its transpose).

#include <cstddef>
#include <string>
#include <vector>

#include "flowpic/nn/kernels/scalar.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/shape.hpp"

namespace flowpic::nn {

template <std::size_t Units>
struct dense {
    static_assert(Units > 0, "nn::dense: at least one unit");

    template <shape In>
    static constexpr bool accepts = In.flat();

    template <shape In>
    struct bind {
        static_assert(accepts<In>, "nn::dense: the input is a picture (c x h x w with h or w > 1); "
                                   "insert nn::flatten before the first dense layer");
        static constexpr layer_kind kind = layer_kind::dense;
        static constexpr shape in = In;
        static constexpr shape out{Units, 1, 1};
        static constexpr std::size_t inputs = In.c;
        static constexpr std::size_t units = Units;
        static constexpr std::size_t weight_count = Units * In.c;
        static constexpr std::size_t param_count = weight_count + Units;
        static constexpr std::size_t macs = weight_count;
        static constexpr std::size_t fan_in = In.c;
        static constexpr std::size_t fan_out = Units;

        static std::string signature() { return "dense(" + std::to_string(Units) + ")->" + out.str(); }
        static std::vector<tensor_info> tensors() {
            return {{"weight", {Units, In.c}, 0}, {"bias", {Units}, weight_count}};
        }
        template <class T>
        static void forward(const T* params, const T* x, T* y, std::size_t n, const run_context&) {
            kernels::reference::dense_forward(In.c, Units, params, params + weight_count, x, y, n);
        }
        template <class T>
        static void backward(const T* params, const T* x, const T*, const T* dy, T* dx, T* dparams, std::size_t n,
                             const run_context&) {
            kernels::reference::dense_backward(In.c, Units, params, x, dy, dx, dparams, dparams + weight_count, n);
        }
    };
};

}  // namespace flowpic::nn
