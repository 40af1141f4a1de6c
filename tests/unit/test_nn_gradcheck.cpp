// Finite-difference gradient checks of every layer and of each preset's layers on small inputs,
// through the scalar oracle in double precision.
//
// Tolerance: central differences with h = 1e-6 have a truncation error of order h^2 |f'''| ~ 1e-12
// and a rounding error of order 1e-16 |L| / h ~ 1e-10, so analytic and numeric derivatives must
// agree to |a - n| <= 1e-6 (|a| + |n|) + 1e-9, four orders above both. ReLU kinks and max-pool
// ties are hit only if an activation lies within h of a kink: with continuous random data the
// chance is about 1e-6 per element, and an unlucky seed would show as one mismatch, not noise.
// Dropout masks are fixed by (seed, step), so training mode is a smooth function too.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "flowpic/nn/networks.hpp"

using namespace flowpic::nn;

namespace {

template <class Net, class Loss>
void gradcheck(std::uint64_t seed, std::size_t n, bool training, std::size_t classes) {
    using D = typename Net::template rebind<double>;
    D net(init_scheme::kaiming_uniform, seed);
    rng r(seed * 7 + 1);
    std::vector<double> x(n * D::input_shape.size());
    for (auto& v : x) v = r.uniform(-1.0, 2.0);
    std::vector<std::int32_t> labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>(r.below(classes));
    const std::vector<double> cw{1.0, 2.0, 0.5, 1.5, 1.0, 0.75};
    const targets t{labels, std::span<const double>(cw.data(), std::max<std::size_t>(classes, 2))};
    const run_context ctx{training, seed, 3, 0, 0};

    std::vector<double> dx(x.size());
    net.gradient(x.data(), n, t, Loss{}, ctx, flowpic::backend::scalar{}, dx.data());
    const std::vector<double> g(net.grads().begin(), net.grads().end());
    auto loss = [&] { return net.gradient(x.data(), n, t, Loss{}, ctx, flowpic::backend::scalar{}); };
    auto agree = [](double a, double num) { return std::abs(a - num) <= 1e-6 * (std::abs(a) + std::abs(num)) + 1e-9; };
    constexpr double h = 1e-6;

    std::size_t nonzero = 0, checked = 0;
    auto params = net.params();
    // up to 24 elements of every tensor, spread over it (first and last included)
    for (const auto& tensor : D::tensors())
        for (std::size_t k = 0, m = std::min<std::size_t>(24, tensor.info.size()); k < m; ++k) {
            const std::size_t j = m == 1 ? 0 : k * (tensor.info.size() - 1) / (m - 1);
            const std::size_t i = tensor.offset + j;
            const double p = params[i];
            params[i] = p + h;
            const double up = loss();
            params[i] = p - h;
            const double down = loss();
            params[i] = p;
            const double num = (up - down) / (2 * h);
            INFO("parameter " << i << " (" << tensor.group << "." << tensor.info.role << "[" << j << "]) analytic " << g[i]
                              << " numeric " << num);
            CHECK(agree(g[i], num));
            nonzero += g[i] != 0;
            ++checked;
        }
    CHECK(nonzero > checked / 4);  // a test of zeros would prove nothing
    for (std::size_t k = 0; k < 24; ++k) {
        const std::size_t i = static_cast<std::size_t>(r.below(x.size()));
        const double v = x[i];
        x[i] = v + h;
        const double up = loss();
        x[i] = v - h;
        const double down = loss();
        x[i] = v;
        const double num = (up - down) / (2 * h);
        INFO("input " << i << " analytic " << dx[i] << " numeric " << num);
        CHECK(agree(dx[i], num));
    }
}

// Layers the presets do not use: explicit and symmetric padding, strides 2 and 3, an inner
// sigmoid, overlapping pooling, two input channels, a non-square picture, an inner softmax.
using odd_layers =
    sequential<input<2, 13, 11>, conv2d<4, 3, 2, padding::explicit_pads<1, 0, 2, 1>>, sigmoid, max_pool2d<3, 2>,
               conv2d<3, 2, 1, padding::symmetric<1>>, relu, dropout2d<0.3>, flatten, dense<5>, softmax, dense<3>, relu,
               dropout<0.2>, dense<4>, softmax>;
using strided = sequential<input<1, 17, 19>, conv2d<3, 4, 3, padding::same>, relu, max_pool2d<2>, flatten, dense<2>, softmax>;

}  // namespace

TEST_CASE("gradient check: mini_flowpic layers (valid conv, ReLU, pool, dropout2d, dense), training mode") {
    gradcheck<networks::mini_flowpic<3, 32>, categorical_crossentropy>(11, 2, true, 3);
}

TEST_CASE("gradient check: shapira2019 layers on 100x100 (Keras same padding, stride 5)") {
    gradcheck<networks::shapira2019<3, 100>, categorical_crossentropy>(12, 2, true, 3);
    gradcheck<networks::shapira2019<3, 100>, categorical_crossentropy>(13, 2, false, 3);
}

TEST_CASE("gradient check: network_stats layers on 155x155 (valid, stride 5, sigmoid, binary cross-entropy)") {
    gradcheck<networks::network_stats<155>, binary_crossentropy>(14, 2, true, 2);
}

TEST_CASE("gradient check: padding policies, strides, inner sigmoid and softmax, overlapping pooling") {
    gradcheck<odd_layers, categorical_crossentropy>(15, 3, true, 4);
    gradcheck<strided, categorical_crossentropy>(16, 2, false, 2);
}
