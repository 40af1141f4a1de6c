#pragma once
// Seeded initialisation of one layer's parameters: Glorot-uniform kernels with zero biases
// (Keras' defaults), or PyTorch's defaults (kaiming_uniform_ with a = sqrt(5), which is
// U(+-1/sqrt(fan_in)), for kernels and biases alike).

#include <cmath>
#include <cstddef>

#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/random.hpp"

namespace flowpic::nn {

template <class L, class T>
void init_layer(T* p, init_scheme scheme, rng& r) {
    if constexpr (L::param_count > 0) {
        const double fan_in = static_cast<double>(L::fan_in), fan_out = static_cast<double>(L::fan_out);
        const std::size_t nw = L::weight_count, nb = L::param_count - L::weight_count;
        if (scheme == init_scheme::glorot_uniform) {
            const double a = std::sqrt(6.0 / (fan_in + fan_out));
            for (std::size_t i = 0; i < nw; ++i) p[i] = static_cast<T>(r.uniform(-a, a));
            for (std::size_t i = 0; i < nb; ++i) p[nw + i] = T(0);
        } else {
            const double a = 1.0 / std::sqrt(fan_in);
            for (std::size_t i = 0; i < nw + nb; ++i) p[i] = static_cast<T>(r.uniform(-a, a));
        }
    }
}

}  // namespace flowpic::nn
