// The CUDA network backend against the scalar oracle: every kernel of flowpic/cuda/network_api.hpp
// through the C API, then nn::cuda_network, backend::cuda on nn::sequential and train::fit.
//
// Built twice: with flowpic::cuda (tests/cuda: on a GPU; exit 77 without one) and with the host
// emulation of the same API (tests/support/cuda_network_emulation.cpp, FLOWPIC_CUDA_EMULATED: on
// every machine, checking the ops' index arithmetic, the API and the executor).
//
// Tolerances. Dropout masks, pooling winners, ReLU and the optimiser steps are exact. Sums run in
// float with fused multiply-adds on the device (the oracle sums in double), so forward values
// are compared within 1e-4 of the tensor's largest magnitude, gradients within 1e-3 of theirs
// (they sum over the batch and every output pixel, up to 10^7 terms for 1500x1500 pictures).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "flowpic/blocks/block.hpp"
#include "flowpic/cuda/network_api.hpp"
#include "flowpic/cuda/nn_context.hpp"
#include "flowpic/nn/cuda_network.hpp"
#include "flowpic/nn/kernels/scalar.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/nn/random.hpp"
#include "flowpic/nn/sequential.hpp"
#if !defined(FLOWPIC_CUDA_EMULATED)
#include <random>

#include "flowpic/picture/kernels/cuda.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "random_packets.hpp"
#endif
#include "flowpic/train/dataset.hpp"
#include "flowpic/train/trainer.hpp"

namespace fc = flowpic::cuda;
namespace nn = flowpic::nn;
namespace ref = flowpic::nn::kernels::reference;

namespace {

std::vector<float> uniform(std::size_t n, std::uint64_t seed, double lo = -1, double hi = 1) {
    nn::rng r(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(r.uniform(lo, hi));
    return v;
}
// Mostly zeros, some small counts: what pictures look like.
std::vector<float> picture_like(std::size_t n, std::uint64_t seed, double density = 0.05) {
    nn::rng r(seed);
    std::vector<float> v(n, 0.0f);
    for (auto& x : v)
        if (r.uniform() < density) x = static_cast<float>(1 + r.below(20)) / 20.0f;
    return v;
}
// Small integers: many ties for max pooling.
std::vector<float> tied(std::size_t n, std::uint64_t seed) {
    nn::rng r(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = static_cast<float>(r.below(4));
    return v;
}

double max_abs(std::span<const float> v) {
    double m = 0;
    for (float x : v) m = std::max(m, std::abs(static_cast<double>(x)));
    return m;
}

// Largest |a - b| relative to max(1e-30, largest |b|); NaN anywhere counts as infinitely far.
double rel_error(std::span<const float> a, std::span<const float> b) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    const double scale = std::max(1e-30, max_abs(b));
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) || std::isnan(b[i])) return std::numeric_limits<double>::infinity();
        worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / scale);
    }
    return worst;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

// A device copy of host values, and back.
template <class T>
fc::device_array<T> up(const fc::nn_context& ctx, const std::vector<T>& v) {
    fc::device_array<T> d(ctx, v.size());
    d.upload(v);
    return d;
}
template <class T>
std::vector<T> down(const fc::device_array<T>& d, std::size_t n) {
    std::vector<T> v(n);
    d.download(v);
    return v;
}

flowpic_cuda_conv2d conv_of(const nn::kernels::conv_geometry& g) {
    auto u = [](std::size_t v) { return static_cast<std::uint32_t>(v); };
    return {u(g.c), u(g.h), u(g.w), u(g.f), u(g.kh), u(g.kw), u(g.sh), u(g.sw), u(g.pt), u(g.pl), u(g.oh), u(g.ow)};
}
nn::kernels::conv_geometry make_conv(std::size_t c, std::size_t h, std::size_t w, std::size_t f, std::size_t k,
                                     std::size_t s, std::size_t pt, std::size_t pb, std::size_t pl, std::size_t pr) {
    nn::kernels::conv_geometry g{c, h, w, f, k, k, s, s, pt, pb, pl, pr, 0, 0};
    g.oh = (h + pt + pb - k) / s + 1;
    g.ow = (w + pl + pr - k) / s + 1;
    return g;
}

void check(int status, const char* what) {
    INFO(what << ": status " << status);
    REQUIRE(status == FLOWPIC_CUDA_SUCCESS);
}

}  // namespace

TEST_SUITE("cuda network") {

TEST_CASE("conv2d forward and backward equal the scalar kernels") {
    fc::nn_context ctx;
    const nn::kernels::conv_geometry cases[] = {
        make_conv(1, 40, 40, 10, 10, 5, 2, 3, 2, 3),   // FlowPic's first layer, Keras 'same'
        make_conv(10, 20, 20, 20, 10, 5, 2, 3, 2, 3),  // its second: 20 filters, two groups of 10
        make_conv(3, 9, 11, 5, 3, 1, 1, 1, 1, 1),
        make_conv(2, 12, 12, 9, 5, 2, 0, 0, 0, 0),
        make_conv(2, 8, 8, 33, 3, 1, 1, 1, 1, 1),      // 33 filters: three groups of 11
        make_conv(2, 10, 7, 4, 3, 2, 2, 0, 1, 3),      // uneven explicit pads
        make_conv(1, 11, 13, 3, 2, 3, 0, 1, 0, 0),     // stride larger than the kernel: unread pixels
        make_conv(6, 14, 14, 16, 5, 1, 0, 0, 0, 0),    // mini-FlowPic's second layer
    };
    std::uint64_t seed = 1;
    for (const auto& g : cases) {
        for (std::size_t n : {std::size_t{1}, std::size_t{3}}) {
            CAPTURE(g.c);
            CAPTURE(g.h);
            CAPTURE(g.f);
            CAPTURE(g.kh);
            CAPTURE(g.sh);
            CAPTURE(n);
            const auto cg = conv_of(g);
            const auto x = uniform(n * g.in_size(), seed++);
            const auto w = uniform(g.weight_size(), seed++, -0.3, 0.3);
            const auto b = uniform(g.f, seed++);
            const auto dy = uniform(n * g.out_size(), seed++);
            std::vector<float> y(n * g.out_size()), dx(n * g.in_size());
            auto dw = uniform(g.weight_size(), seed++), db = uniform(g.f, seed++);  // gradients add into these
            const auto dw0 = dw, db0 = db;
            ref::conv2d_forward(g, w.data(), b.data(), x.data(), y.data(), n);
            ref::conv2d_backward(g, w.data(), x.data(), dy.data(), dx.data(), dw.data(), db.data(), n);

            auto d_x = up(ctx, x), d_w = up(ctx, w), d_b = up(ctx, b), d_dy = up(ctx, dy);
            auto d_dw = up(ctx, dw0), d_db = up(ctx, db0);
            fc::device_array<float> d_y(ctx, y.size()), d_dx(ctx, dx.size());
            check(flowpic_cuda_nn_conv2d_forward(ctx.get(), &cg, d_w.data(), d_b.data(), d_x.data(), d_y.data(), n), "forward");
            check(flowpic_cuda_nn_conv2d_backward_data(ctx.get(), &cg, d_w.data(), d_dy.data(), d_dx.data(), n), "data");
            check(flowpic_cuda_nn_conv2d_backward_params(ctx.get(), &cg, d_x.data(), d_dy.data(), d_dw.data(),
                                                         d_db.data(), n),
                  "params");
            CHECK(rel_error(down(d_y, y.size()), y) < 1e-4);
            CHECK(rel_error(down(d_dx, dx.size()), dx) < 1e-4);
            CHECK(rel_error(down(d_dw, dw.size()), dw) < 1e-4);
            CHECK(rel_error(down(d_db, db.size()), db) < 1e-4);
        }
    }
}

TEST_CASE("max pooling: the same maxima and the same winners as the scalar kernels, ties included") {
    fc::nn_context ctx;
    const nn::kernels::pool_geometry cases[] = {{2, 9, 7, 2, 2, 4, 3}, {3, 8, 8, 3, 2, 3, 3}, {1, 10, 10, 2, 3, 3, 3}};
    std::uint64_t seed = 100;
    for (const auto& g : cases) {
        const std::size_t n = 2;
        const flowpic_cuda_pool2d pg{static_cast<std::uint32_t>(g.c), static_cast<std::uint32_t>(g.h),
                                     static_cast<std::uint32_t>(g.w), static_cast<std::uint32_t>(g.k),
                                     static_cast<std::uint32_t>(g.s), static_cast<std::uint32_t>(g.oh),
                                     static_cast<std::uint32_t>(g.ow)};
        const auto x = tied(n * g.in_size(), seed++);
        const auto dy = uniform(n * g.out_size(), seed++);
        std::vector<float> y(n * g.out_size()), dx(n * g.in_size());
        ref::max_pool_forward(g, x.data(), y.data(), n);
        ref::max_pool_backward(g, x.data(), dy.data(), dx.data(), n);
        auto d_x = up(ctx, x), d_dy = up(ctx, dy);
        fc::device_array<float> d_y(ctx, y.size()), d_dx(ctx, dx.size());
        check(flowpic_cuda_nn_max_pool2d_forward(ctx.get(), &pg, d_x.data(), d_y.data(), n), "forward");
        check(flowpic_cuda_nn_max_pool2d_backward(ctx.get(), &pg, d_x.data(), d_dy.data(), d_dx.data(), n), "backward");
        CHECK(same_bits(down(d_y, y.size()), y));
        // overlapping windows add in the scalar kernel's order, so even those sums are exact
        CHECK(same_bits(down(d_dx, dx.size()), dx));
    }
}

TEST_CASE("element-wise layers, dropout masks and dense layers") {
    fc::nn_context ctx;
    const std::size_t n = 4;
    constexpr nn::shape in{3, 5, 6};
    const auto x = uniform(n * in.size(), 7);
    const auto dy = uniform(n * in.size(), 8);
    auto d_x = up(ctx, x), d_dy = up(ctx, dy);
    fc::device_array<float> d_y(ctx, x.size()), d_dx(ctx, x.size());
    const nn::run_context rc{true, 99, 5, 3, 2};

    SUBCASE("relu") {
        using L = nn::relu::bind<in>;
        std::vector<float> y(x.size()), dx(x.size());
        L::forward<float>(nullptr, x.data(), y.data(), n, rc);
        L::backward<float>(nullptr, x.data(), y.data(), dy.data(), dx.data(), nullptr, n, rc);
        check(flowpic_cuda_nn_relu_forward(ctx.get(), d_x.data(), d_y.data(), x.size()), "forward");
        check(flowpic_cuda_nn_relu_backward(ctx.get(), d_y.data(), d_dy.data(), d_dx.data(), x.size()), "backward");
        CHECK(same_bits(down(d_y, x.size()), y));
        CHECK(same_bits(down(d_dx, x.size()), dx));
    }
    SUBCASE("sigmoid") {
        using L = nn::sigmoid::bind<in>;
        std::vector<float> y(x.size()), dx(x.size());
        L::forward<float>(nullptr, x.data(), y.data(), n, rc);
        L::backward<float>(nullptr, x.data(), y.data(), dy.data(), dx.data(), nullptr, n, rc);
        check(flowpic_cuda_nn_sigmoid_forward(ctx.get(), d_x.data(), d_y.data(), x.size()), "forward");
        auto d_yref = up(ctx, y);
        check(flowpic_cuda_nn_sigmoid_backward(ctx.get(), d_yref.data(), d_dy.data(), d_dx.data(), x.size()), "backward");
        CHECK(rel_error(down(d_y, x.size()), y) < 1e-6);
        CHECK(rel_error(down(d_dx, x.size()), dx) < 1e-6);
    }
    SUBCASE("dropout and dropout2d draw the CPU's masks") {
        auto run = [&]<class L>(L) {
            std::vector<float> y(x.size());
            nn::run_context c = rc;
            c.layer = 2;
            L::template forward<float>(nullptr, x.data(), y.data(), n, c);
            const flowpic_cuda_dropout d{c.seed, c.step, c.layer, c.sample_base, L::threshold,
                                         static_cast<std::uint32_t>(L::unit), static_cast<float>(1.0 / (1.0 - L::rate))};
            check(flowpic_cuda_nn_dropout(ctx.get(), &d, d_x.data(), d_y.data(), n, in.size()), "dropout");
            const auto got = down(d_y, x.size());
            CHECK(same_bits(got, y));
            const auto zeros = std::count(got.begin(), got.end(), 0.0f);
            CHECK(zeros > 0);
            CHECK(zeros < static_cast<long>(got.size()));
        };
        run(nn::dropout<0.5>::bind<in>{});
        run(nn::dropout2d<0.25>::bind<in>{});
    }
    SUBCASE("softmax forward and backward") {
        const std::uint32_t classes = 6;
        const std::size_t rows = x.size() / classes;
        std::vector<float> y(x.size()), dx(x.size());
        ref::softmax_rows(x.data(), y.data(), rows, classes);
        using L = nn::softmax::bind<nn::shape{classes, 1, 1}>;
        L::backward<float>(nullptr, x.data(), y.data(), dy.data(), dx.data(), nullptr, rows, rc);
        check(flowpic_cuda_nn_softmax_forward(ctx.get(), d_x.data(), d_y.data(), rows, classes), "forward");
        auto d_yref = up(ctx, y);
        check(flowpic_cuda_nn_softmax_backward(ctx.get(), d_yref.data(), d_dy.data(), d_dx.data(), rows, classes), "backward");
        CHECK(rel_error(down(d_y, x.size()), y) < 1e-6);
        CHECK(rel_error(down(d_dx, x.size()), dx) < 1e-6);
    }
    SUBCASE("dense") {
        const std::uint32_t inputs = static_cast<std::uint32_t>(in.size()), units = 7;
        const auto w = uniform(std::size_t{units} * inputs, 11, -0.2, 0.2), b = uniform(units, 12);
        const auto dyd = uniform(n * units, 13);
        std::vector<float> y(n * units), dx(n * inputs);
        auto dw = uniform(w.size(), 14), db = uniform(units, 15);
        const auto dw0 = dw, db0 = db;
        ref::dense_forward(inputs, units, w.data(), b.data(), x.data(), y.data(), n);
        ref::dense_backward(inputs, units, w.data(), x.data(), dyd.data(), dx.data(), dw.data(), db.data(), n);
        auto d_w = up(ctx, w), d_b = up(ctx, b), d_dyd = up(ctx, dyd), d_dw = up(ctx, dw0), d_db = up(ctx, db0);
        fc::device_array<float> d_yd(ctx, y.size());
        check(flowpic_cuda_nn_dense_forward(ctx.get(), inputs, units, d_w.data(), d_b.data(), d_x.data(), d_yd.data(), n),
              "forward");
        check(flowpic_cuda_nn_dense_backward_data(ctx.get(), inputs, units, d_w.data(), d_dyd.data(), d_dx.data(), n),
              "data");
        check(flowpic_cuda_nn_dense_backward_params(ctx.get(), inputs, units, d_x.data(), d_dyd.data(), d_dw.data(),
                                                    d_db.data(), n),
              "params");
        CHECK(rel_error(down(d_yd, y.size()), y) < 1e-5);
        CHECK(rel_error(down(d_dx, dx.size()), dx) < 1e-5);
        CHECK(rel_error(down(d_dw, dw.size()), dw) < 1e-6);
        CHECK(rel_error(down(d_db, db.size()), db) < 1e-6);
    }
    SUBCASE("pictures of any value type become floats") {
        const std::vector<std::uint16_t> u16{0, 1, 255, 65535};
        const std::vector<double> f64{0.5, -2.25, 1e6, 3.0};
        const std::vector<std::int32_t> i32{-7, 0, 9, 1 << 20};
        fc::device_array<float> out(ctx, 4);
        auto d16 = up(ctx, u16);
        check(flowpic_cuda_nn_to_float(ctx.get(), d16.data(), 2, FLOWPIC_CUDA_VALUE_UNSIGNED, out.data(), 4), "u16");
        CHECK(down(out, 4) == std::vector<float>{0, 1, 255, 65535});
        auto d64 = up(ctx, f64);
        check(flowpic_cuda_nn_to_float(ctx.get(), d64.data(), 8, FLOWPIC_CUDA_VALUE_FLOAT, out.data(), 4), "f64");
        CHECK(down(out, 4) == std::vector<float>{0.5f, -2.25f, 1e6f, 3.0f});
        auto d32 = up(ctx, i32);
        check(flowpic_cuda_nn_to_float(ctx.get(), d32.data(), 4, FLOWPIC_CUDA_VALUE_SIGNED, out.data(), 4), "i32");
        CHECK(down(out, 4) == std::vector<float>{-7, 0, 9, 1 << 20});
        CHECK(flowpic_cuda_nn_to_float(ctx.get(), d16.data(), 2, FLOWPIC_CUDA_VALUE_FLOAT, out.data(), 4) ==
              FLOWPIC_CUDA_INVALID_ARGUMENT);
    }
}

TEST_CASE("losses fused with their heads equal the CPU losses") {
    fc::nn_context ctx;
    const std::size_t n = 9;
    const std::uint32_t classes = 5;
    const auto z = uniform(n * classes, 21, -4, 4);
    const std::vector<std::int32_t> labels{0, 4, 2, 2, 1, 3, 0, 4, 1};
    const std::vector<double> weights{1.0, 0.5, 2.0, 1.5, 0.25};
    auto d_z = up(ctx, z);
    auto d_labels = up(ctx, labels);
    auto d_weights = up(ctx, weights);
    fc::device_array<float> d_dz(ctx, z.size());
    for (bool weighted : {false, true}) {
        CAPTURE(weighted);
        const nn::targets t{labels, weighted ? std::span<const double>(weights) : std::span<const double>()};
        const double norm = nn::categorical_crossentropy::normalizer(t, n);
        std::vector<float> dz(z.size());
        const double sum = nn::categorical_crossentropy::evaluate(z.data(), n, classes, t, 0, norm, dz.data());
        check(flowpic_cuda_nn_softmax_cross_entropy(ctx.get(), d_z.data(), d_labels.data(),
                                                    weighted ? d_weights.data() : nullptr, n, classes, d_dz.data()),
              "cross entropy");
        double got_sum = 0, got_norm = 0;
        check(flowpic_cuda_nn_read_loss(ctx.get(), &got_sum, &got_norm), "read");
        CHECK(got_norm == doctest::Approx(norm).epsilon(1e-15));
        CHECK(got_sum == doctest::Approx(sum).epsilon(1e-12));
        CHECK(rel_error(down(d_dz, z.size()), dz) < 1e-6);
    }
    SUBCASE("binary cross-entropy with sigmoid") {
        const std::vector<std::int32_t> bin{0, 1, 1, 0, 1, 0, 0, 1, 1};
        const std::vector<double> bw{0.3, 1.7};
        auto d_bin = up(ctx, bin);
        auto d_bw = up(ctx, bw);
        const nn::targets t{bin, bw};
        const double norm = nn::binary_crossentropy::normalizer(t, n);
        std::vector<float> dz(n);
        const double sum = nn::binary_crossentropy::evaluate(z.data(), n, 1, t, 0, norm, dz.data());
        check(flowpic_cuda_nn_sigmoid_binary_cross_entropy(ctx.get(), d_z.data(), d_bin.data(), d_bw.data(), n, d_dz.data()),
              "bce");
        double got_sum = 0, got_norm = 0;
        check(flowpic_cuda_nn_read_loss(ctx.get(), &got_sum, &got_norm), "read");
        CHECK(got_sum == doctest::Approx(sum).epsilon(1e-12));
        CHECK(rel_error(down(d_dz, n), dz) < 1e-6);
    }
    SUBCASE("a label outside the classes and weights that sum to 0 are reported") {
        auto bad = labels;
        bad[3] = 5;
        auto d_bad = up(ctx, bad);
        check(flowpic_cuda_nn_softmax_cross_entropy(ctx.get(), d_z.data(), d_bad.data(), nullptr, n, classes, d_dz.data()),
              "queued");
        double s = 0, m = 0;
        CHECK(flowpic_cuda_nn_read_loss(ctx.get(), &s, &m) == FLOWPIC_CUDA_BAD_LABEL);
        const std::vector<double> zero(classes, 0.0);
        auto d_zero = up(ctx, zero);
        check(flowpic_cuda_nn_softmax_cross_entropy(ctx.get(), d_z.data(), d_labels.data(), d_zero.data(), n, classes,
                                                    d_dz.data()),
              "queued");
        CHECK(flowpic_cuda_nn_read_loss(ctx.get(), &s, &m) == FLOWPIC_CUDA_ZERO_WEIGHT);
        // and as an exception naming it
        try {
            fc::check_nn(FLOWPIC_CUDA_BAD_LABEL, "flowpic_cuda_nn_read_loss");
            FAIL("no exception");
        } catch (const fc::error& e) {
            CHECK(std::string(e.what()).find("label") != std::string::npos);
        }
    }
}

TEST_CASE("Adam and SGD steps equal the CPU optimisers bit for bit") {
    fc::nn_context ctx;
    const std::size_t n = 1000;
    auto p = uniform(n, 31);
    std::vector<double> zeros(n, 0.0);
    auto d_p = up(ctx, p);
    auto d_m = up(ctx, zeros), d_v = up(ctx, zeros);
    fc::device_array<float> d_g(ctx, n);
    nn::adam cpu(nn::adam::options{2e-3, 0.85, 0.995, 1e-7});
    for (std::uint64_t t = 1; t <= 3; ++t) {
        auto g = uniform(n, 40 + t, -0.01, 0.01);
        g[0] = 0.0f;
        d_g.upload(g);
        cpu.step(std::span<float>(p), std::span<const float>(g));
        const flowpic_cuda_adam a{2e-3, 0.85, 0.995, 1e-7, t};
        check(flowpic_cuda_nn_adam_step(ctx.get(), &a, d_p.data(), d_g.data(), d_m.data(), d_v.data(), n), "adam");
        CHECK(same_bits(down(d_p, n), p));
    }
    for (double momentum : {0.0, 0.9}) {
        CAPTURE(momentum);
        auto q = uniform(n, 51);
        auto d_q = up(ctx, q);
        auto d_vel = up(ctx, zeros);
        nn::sgd sgd(nn::sgd::options{0.05, momentum});
        for (int t = 0; t < 3; ++t) {
            const auto g = uniform(n, 60 + static_cast<std::uint64_t>(t));
            d_g.upload(g);
            sgd.step(std::span<float>(q), std::span<const float>(g));
            check(flowpic_cuda_nn_sgd_step(ctx.get(), 0.05, momentum, t == 0, d_q.data(), d_g.data(), d_vel.data(), n),
                  "sgd");
            CHECK(same_bits(down(d_q, n), q));
        }
    }
}

TEST_CASE("bad arguments are refused with a status, not a crash") {
    fc::nn_context ctx;
    fc::device_array<float> a(ctx, 16);
    flowpic_cuda_conv2d g{1, 4, 4, 1, 2, 2, 1, 1, 0, 0, 3, 3};
    CHECK(flowpic_cuda_nn_conv2d_forward(nullptr, &g, a.data(), a.data(), a.data(), a.data(), 1) ==
          FLOWPIC_CUDA_INVALID_ARGUMENT);
    CHECK(flowpic_cuda_nn_conv2d_forward(ctx.get(), &g, nullptr, a.data(), a.data(), a.data(), 1) ==
          FLOWPIC_CUDA_INVALID_ARGUMENT);
    g.sh = 0;
    CHECK(flowpic_cuda_nn_conv2d_forward(ctx.get(), &g, a.data(), a.data(), a.data(), a.data(), 1) ==
          FLOWPIC_CUDA_INVALID_ARGUMENT);
    const flowpic_cuda_pool2d too_big{1, 4, 4, 2, 2, 3, 2};  // 3 windows of 2 do not fit 4 rows
    CHECK(flowpic_cuda_nn_max_pool2d_forward(ctx.get(), &too_big, a.data(), a.data(), 1) == FLOWPIC_CUDA_INVALID_ARGUMENT);
    const flowpic_cuda_adam zero_step{1e-3, 0.9, 0.999, 1e-8, 0};
    CHECK(flowpic_cuda_nn_adam_step(ctx.get(), &zero_step, a.data(), a.data(), nullptr, nullptr, 16) ==
          FLOWPIC_CUDA_INVALID_ARGUMENT);
    CHECK_THROWS_AS(a.upload(std::vector<float>(17)), std::out_of_range);
}

// ---- whole networks ----

namespace {

// Forward (inference and with dropout on), gradient with class weights and dropout, and a
// device Adam step fed the oracle's gradients, for one network type.
template <class Net>
void check_network(std::size_t n, std::uint64_t seed, double density = 0.05) {
    using Dbl = typename Net::template rebind<double>;
    constexpr std::size_t isz = Net::input_shape.size(), osz = Net::output_shape.size();
    Net net(nn::init_scheme::glorot_uniform, seed);
    const auto x = picture_like(n * isz, seed + 1, density);
    std::vector<std::int32_t> labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>((i * 7 + seed) % (osz == 1 ? 2 : osz));
    std::vector<double> weights(osz == 1 ? 2 : osz);
    for (std::size_t c = 0; c < weights.size(); ++c) weights[c] = 0.5 + 0.25 * static_cast<double>(c);
    const nn::targets t{labels, weights};
    using Loss = std::conditional_t<Net::head == nn::layer_kind::softmax, nn::categorical_crossentropy,
                                    nn::binary_crossentropy>;

    nn::cuda_network<Net> dev(net);
    CHECK(same_bits(dev.params_host(), std::vector<float>(net.params().begin(), net.params().end())));

    // inference
    std::vector<float> want(n * osz), got(n * osz);
    net.predict(x.data(), n, want.data(), flowpic::backend::scalar{});
    dev.predict(x.data(), n, got.data());
    CHECK(rel_error(got, want) < 1e-4);

    // forward with dropout on: the same masks
    const nn::run_context train_ctx{true, seed * 3 + 1, 4, 0, 0};
    net.forward(x.data(), n, want.data(), train_ctx, flowpic::backend::scalar{});
    fc::device_array<float> d_x(dev.context(), x.size()), d_out(dev.context(), n * osz);
    d_x.upload(x);
    dev.forward(d_x.data(), n, d_out.data(), train_ctx);
    CHECK(rel_error(down(d_out, n * osz), want) < 1e-4);

    // gradients (oracle in double, so that the comparison measures the device's rounding)
    Dbl oracle;
    std::copy(net.params().begin(), net.params().end(), oracle.params().begin());
    std::vector<double> xd(x.begin(), x.end());
    const double want_loss = oracle.gradient(xd.data(), n, t, Loss{}, train_ctx, flowpic::backend::scalar{});
    const double got_loss = dev.gradient(x.data(), n, t, Loss{}, train_ctx);
    CHECK(got_loss == doctest::Approx(want_loss).epsilon(1e-5));
    const std::vector<float> want_g(oracle.grads().begin(), oracle.grads().end());
    const auto got_g = dev.grads_host();
    // layer by layer, each against its own scale
    for (const auto& tensor : Net::tensors()) {
        CAPTURE(tensor.layer);
        CAPTURE(tensor.info.role);
        const std::span<const float> a(got_g.data() + tensor.offset, tensor.info.size());
        const std::span<const float> b(want_g.data() + tensor.offset, tensor.info.size());
        CHECK(rel_error(a, b) < 1e-3);
    }

    // the device step: oracle gradients in, the CPU optimiser's parameters out, bit for bit
    const std::vector<float> g32(want_g.begin(), want_g.end());
    check(flowpic_cuda_nn_upload(dev.context().get(), dev.device_grads(), g32.data(), g32.size() * sizeof(float)),
          "upload gradients");
    nn::adam cpu;
    std::vector<float> p(net.params().begin(), net.params().end());
    cpu.step(std::span<float>(p), std::span<const float>(g32));
    dev.step(nn::adam::options{});
    CHECK(same_bits(dev.params_host(), p));
    CHECK(dev.steps() == 1);
}

using small_flowpic = nn::networks::shapira2019<3, 100>;
using uneven_flowpic = nn::networks::shapira2019<4, 133, 101>;
using small_stats = nn::networks::network_stats<160, 160, 2>;
// softmax and sigmoid inside, dropout2d on the input, explicit pads, stride > kernel, pooling 3/2
using odd_net = nn::sequential<nn::input<2, 17, 19>, nn::dropout2d<0.3>, nn::conv2d<5, 3, 2, nn::padding::explicit_pads<1, 0, 2, 1>>,
                               nn::sigmoid, nn::max_pool2d<3, 2>, nn::conv2d<4, 2, 3>, nn::relu, nn::flatten, nn::dense<6>,
                               nn::softmax, nn::dense<4>, nn::relu, nn::dropout<0.2>, nn::dense<3>, nn::softmax>;

}  // namespace

TEST_CASE("whole networks: forward, dropout, gradients and the Adam step against the scalar oracle") {
    SUBCASE("FlowPic on 100x100") { check_network<small_flowpic>(5, 3); }
    SUBCASE("FlowPic on 133x101") { check_network<uneven_flowpic>(3, 8, 0.1); }
    SUBCASE("mini-FlowPic 32x32") { check_network<nn::networks::mini_flowpic<5>>(9, 4, 0.1); }
    SUBCASE("mini-FlowPic 64x64") { check_network<nn::networks::mini_flowpic<4, 64>>(3, 5, 0.1); }
    SUBCASE("network-stats (sigmoid, two channels)") { check_network<small_stats>(4, 6); }
    SUBCASE("odd layers") { check_network<odd_net>(6, 7, 0.5); }
}

TEST_CASE("the published FlowPic network on 1500x1500 pictures") {
    check_network<nn::networks::shapira2019<5>>(2, 11, 0.0005);
}

TEST_CASE("backend::cuda on nn::sequential: predict, gradient and loss through the device twin") {
    using Net = nn::networks::mini_flowpic<5>;
    Net net(nn::init_scheme::kaiming_uniform, 21);
    const std::size_t n = 6;
    const auto x = picture_like(n * Net::input_shape.size(), 22, 0.1);
    const std::vector<std::int32_t> labels{0, 1, 2, 3, 4, 0};
    const nn::targets t{labels, {}};
    std::vector<float> want(n * 5), got(n * 5);
    net.predict(x.data(), n, want.data(), flowpic::backend::scalar{});
    net.predict(x.data(), n, got.data(), flowpic::backend::cuda{});
    CHECK(rel_error(got, want) < 1e-4);

    // a change on the host reaches the device before the next call
    net.params()[Net::param_count - 1] += 1.0f;
    net.predict(x.data(), n, want.data(), flowpic::backend::scalar{});
    net.predict(x.data(), n, got.data(), flowpic::backend::cuda{});
    CHECK(rel_error(got, want) < 1e-4);

    const nn::run_context ctx{true, 5, 1, 0, 0};
    Net cpu = net;
    const double lw = cpu.gradient(x.data(), n, t, nn::categorical_crossentropy{}, ctx, flowpic::backend::scalar{});
    const double lg = net.gradient(x.data(), n, t, nn::categorical_crossentropy{}, ctx, flowpic::backend::cuda{});
    CHECK(lg == doctest::Approx(lw).epsilon(1e-5));
    CHECK(rel_error(net.grads(), cpu.grads()) < 1e-3);

    std::vector<float> pw(n * 5), pg(n * 5);
    const double vw = cpu.loss(x.data(), n, t, nn::categorical_crossentropy{}, pw.data(), {}, flowpic::backend::scalar{});
    const double vg = net.loss(x.data(), n, t, nn::categorical_crossentropy{}, pg.data(), {}, flowpic::backend::cuda{});
    CHECK(vg == doctest::Approx(vw).epsilon(1e-5));
    CHECK(rel_error(pg, pw) < 1e-4);
    const std::vector<std::int32_t> wrong{0, 1, 2, 9, 4, 0};
    CHECK_THROWS_AS(net.gradient(x.data(), n, nn::targets{wrong, {}}, nn::categorical_crossentropy{}, ctx,
                                 flowpic::backend::cuda{}),
                    std::out_of_range);
}

TEST_CASE("train::fit on the device follows the CPU run and writes the same model files") {
    using Net = nn::networks::mini_flowpic<3>;
    constexpr std::size_t isz = Net::input_shape.size();
    const std::size_t n = 90;
    // three classes that differ in where their packets fall
    std::vector<float> samples(n * isz, 0.0f);
    std::vector<std::int32_t> labels(n);
    nn::rng r(77);
    for (std::size_t i = 0; i < n; ++i) {
        labels[i] = static_cast<std::int32_t>(i % 3);
        for (int k = 0; k < 40; ++k) {
            const std::size_t row = static_cast<std::size_t>(labels[i]) * 10 + r.below(10), col = r.below(32);
            samples[i * isz + row * 32 + col] += 0.1f;
        }
    }
    const flowpic::train::dense_dataset data(isz, samples, labels);
    std::vector<std::size_t> tr, va;
    for (std::size_t i = 0; i < n; ++i) (i % 5 == 0 ? va : tr).push_back(i);
    const flowpic::train::subset train(data, tr), val(data, va);
    flowpic::train::fit_options o;
    o.epochs = 3;
    o.batch = 16;
    o.seed = 9;
    o.patience = 0;

    Net cpu(nn::init_scheme::glorot_uniform, 8), gpu = cpu;
    nn::adam opt_cpu, opt_gpu;
    const auto hc = flowpic::train::fit(cpu, train, &val, nn::categorical_crossentropy{}, opt_cpu, o, {}, flowpic::backend::scalar{});
    const auto hg = flowpic::train::fit(gpu, train, &val, nn::categorical_crossentropy{}, opt_gpu, o, {}, flowpic::backend::cuda{});
    REQUIRE(hc.history.size() == hg.history.size());
    for (std::size_t e = 0; e < hc.history.size(); ++e) {
        CAPTURE(e);
        CHECK(hg.history[e].train_loss == doctest::Approx(hc.history[e].train_loss).epsilon(1e-3));
        CHECK(hg.history[e].val_loss == doctest::Approx(hc.history[e].val_loss).epsilon(1e-2));
    }
    CHECK(hg.history.back().val_accuracy == doctest::Approx(hc.history.back().val_accuracy).epsilon(0.07));
    CHECK(hg.history.back().train_loss < hg.history.front().train_loss);  // it learns

    // the trained parameters came back to the host network: a model file round trip keeps them
    const std::string path = "cuda_network_fit_test.fpm";
    nn::save_model(path, gpu, "mini_flowpic", {"a", "b", "c"});
    Net loaded;
    nn::load_model(path, loaded);
    CHECK(same_bits(loaded.params(), gpu.params()));
    std::remove(path.c_str());
}

}  // TEST_SUITE("cuda network")

#if !defined(FLOWPIC_CUDA_EMULATED)
namespace {

// GPU pictures straight into the network: the probabilities (and one training gradient) equal
// the CPU pictures through the scalar network.
template <class Preset, class Net>
void pictures_into_network(std::size_t blocks, std::uint64_t seed) {
    using H = typename Preset::picture;
    std::mt19937_64 rng(seed);
    const std::int64_t t0 = 1'700'000'000'000'000'000;
    const std::int64_t span = Preset::window.length_ns;
    std::vector<std::vector<flowpic::packet>> packets;
    std::vector<flowpic::blocks::block> range;
    for (std::size_t i = 0; i < blocks; ++i) packets.push_back(flowpic::test::random_packets(rng, 50 + rng() % 4000, t0, span, true));
    for (std::size_t i = 0; i < blocks; ++i)
        range.push_back(flowpic::blocks::block{nullptr, packets[i], t0, t0 + span, i});

    Net net(nn::init_scheme::glorot_uniform, seed);
    constexpr std::size_t isz = Net::input_shape.size(), osz = Net::output_shape.size();
    flowpic::picture::maker<H, flowpic::backend::scalar> cpu_pictures;
    std::vector<float> x(blocks * isz);
    for (std::size_t i = 0; i < blocks; ++i) {
        const auto d = cpu_pictures.dense(range[i]);
        std::transform(d.data.begin(), d.data.end(), x.begin() + static_cast<std::ptrdiff_t>(i * isz),
                       [](auto v) { return static_cast<float>(v); });
    }
    std::vector<float> want(blocks * osz), got(blocks * osz);
    net.predict(x.data(), blocks, want.data(), flowpic::backend::scalar{});

    nn::cuda_network<Net> dev(net);
    flowpic::picture::cuda_maker<H> gpu_pictures(flowpic::picture::cuda_options{20000, 64 << 20});
    std::vector<std::int32_t> labels(blocks);
    for (std::size_t i = 0; i < blocks; ++i) labels[i] = static_cast<std::int32_t>(i % osz);
    fc::device_array<std::int32_t> d_labels(dev.context(), blocks);
    d_labels.upload(labels);
    std::size_t seen = 0;
    double loss_sum = 0;
    std::vector<float> grads(Net::param_count, 0.0f);
    const nn::run_context rc{};
    gpu_pictures.for_each_device_chunk(range, [&](std::size_t first, std::size_t count, const typename H::value_type* d) {
        CHECK(first == seen);
        dev.predict_from_device(d, count, got.data() + first * osz);
        nn::run_context c = rc;
        c.sample_base = first;
        loss_sum += count * dev.gradient(d, count, d_labels.data() + first, nn::categorical_crossentropy{}, c);
        const auto g = dev.grads_host();
        for (std::size_t k = 0; k < grads.size(); ++k) grads[k] += g[k] * static_cast<float>(count);
        seen += count;
    });
    CHECK(seen == blocks);
    CHECK(rel_error(got, want) < 1e-4);
    Net cpu = net;
    const double want_loss = cpu.gradient(x.data(), blocks, nn::targets{labels, {}}, nn::categorical_crossentropy{}, rc,
                                          flowpic::backend::scalar{});
    for (auto& g : grads) g /= static_cast<float>(blocks);
    CHECK(loss_sum / static_cast<double>(blocks) == doctest::Approx(want_loss).epsilon(1e-5));
    CHECK(rel_error(grads, cpu.grads()) < 1e-3);
}

}  // namespace

TEST_CASE("GPU pictures feed the network without leaving the device") {
    // float pictures in chunks of many blocks, and uint16 1500x1500 pictures converted on the device
    pictures_into_network<flowpic::presets::mini_flowpic, nn::networks::mini_flowpic<5>>(300, 1);
    pictures_into_network<flowpic::presets::shapira2019, nn::networks::shapira2019<5>>(3, 2);
}

TEST_SUITE("without-device") {
TEST_CASE("a network context without a device is a flowpic::cuda::error that says so") {
    try {
        fc::nn_context ctx;
        FAIL("a context was made without a device");
    } catch (const fc::error& e) {
        CHECK(e.no_device());
        CHECK(std::string(e.what()).find("flowpic_cuda_nn_create") != std::string::npos);
    }
}
}
#endif
