// Seeded initialisation: Glorot-uniform (Keras: U(+-sqrt(6 / (fan_in + fan_out))), zero biases)
// and PyTorch's default (U(+-1/sqrt(fan_in)) for weights and biases), checked on bounds, spread
// (a uniform distribution's variance is a^2 / 3) and reproducibility. The exact values of the
// Kaiming stream are checked against PyTorch through scripts/make_nn_fixtures.py (parity tests).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "flowpic/nn/networks.hpp"

using namespace flowpic::nn;

namespace {

struct stats {
    double max_abs = 0, var = 0;
    bool all_zero = true;
};

template <class Net>
stats tensor_stats(const Net& net, std::size_t index) {
    const auto t = Net::tensors()[index];
    stats s;
    for (std::size_t i = 0; i < t.info.size(); ++i) {
        const double v = net.params()[t.offset + i];
        s.max_abs = std::max(s.max_abs, std::abs(v));
        s.var += v * v / static_cast<double>(t.info.size());
        s.all_zero = s.all_zero && v == 0;
    }
    return s;
}

}  // namespace

TEST_CASE("Glorot-uniform: Keras bounds, variance a^2/3, zero biases, reproducible") {
    using net_t = networks::shapira2019<5>;
    const net_t a(init_scheme::glorot_uniform, 1), b(init_scheme::glorot_uniform, 1), c(init_scheme::glorot_uniform, 2);
    // dense 4500 -> 64 (tensor 4): a = sqrt(6 / 4564); conv1 (tensor 0): fan_in 100, fan_out 1000
    const double a_dense = std::sqrt(6.0 / (4500 + 64)), a_conv = std::sqrt(6.0 / (100 + 1000));
    const auto d = tensor_stats(a, 4), k = tensor_stats(a, 0);
    CHECK(d.max_abs <= a_dense);
    CHECK(d.max_abs > 0.99 * a_dense);
    CHECK(d.var == doctest::Approx(a_dense * a_dense / 3).epsilon(0.02));  // 288,000 draws
    CHECK(k.max_abs <= a_conv);
    CHECK(k.var == doctest::Approx(a_conv * a_conv / 3).epsilon(0.15));    // 1,000 draws
    CHECK(tensor_stats(a, 1).all_zero);
    CHECK(tensor_stats(a, 5).all_zero);
    CHECK(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
    CHECK(!std::equal(a.params().begin(), a.params().end(), c.params().begin()));
}

TEST_CASE("Kaiming-uniform (PyTorch's default): U(+-1/sqrt(fan_in)) for weights and biases") {
    const networks::mini_flowpic<5> net(init_scheme::kaiming_uniform, 3);
    // dense 400 -> 120 (tensor 4) and its bias (tensor 5): a = 1/20
    const auto w = tensor_stats(net, 4), bias = tensor_stats(net, 5);
    CHECK(w.max_abs <= 0.05);
    CHECK(w.var == doctest::Approx(0.05 * 0.05 / 3).epsilon(0.03));
    CHECK(bias.max_abs <= 0.05);
    CHECK(!bias.all_zero);
}
