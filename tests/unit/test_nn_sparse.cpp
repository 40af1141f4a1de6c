// Sparse network input (nn::sparse_batch, nn/executor/sparse.hpp) against the scalar oracle on
// the densified batch: predictions, losses and every parameter gradient, on adversarial pictures
// (every row touched, every column touched, one cell, empty, the borders) and random ones, with
// biases of both signs (a ReLU that keeps or kills the constant regions). Also the sparse
// reference kernels against the dense reference, and independence of the thread count.
// Tolerance as tests/unit/test_nn_kernels.cpp: 1e-5 of the largest value of a tensor.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <oneapi/tbb/global_control.h>

#include "flowpic/nn/kernels/scalar.hpp"
#include "flowpic/nn/kernels/sparse_conv.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/nn/sparse_input.hpp"
#include "flowpic/picture/sparse_picture.hpp"

using namespace flowpic::nn;

namespace {

void check_close(const float* a, const float* b, std::size_t n, double rel, const std::string& what) {
    double scale = 1e-30, err = 0;
    for (std::size_t i = 0; i < n; ++i) scale = std::max(scale, double(std::abs(a[i])));
    for (std::size_t i = 0; i < n; ++i) err = std::max(err, double(std::abs(a[i] - b[i])));
    INFO(what << ": max error " << err << " of max " << scale);
    CHECK(err <= rel * scale);
}

using picture_fn = std::function<void(std::size_t h, std::size_t w, rng&, std::vector<std::uint32_t>&)>;

// The adversarial and random pictures, by name.
std::vector<std::pair<std::string, picture_fn>> pictures() {
    return {
        {"empty", [](std::size_t, std::size_t, rng&, std::vector<std::uint32_t>&) {}},
        {"one cell", [](std::size_t h, std::size_t w, rng& r, std::vector<std::uint32_t>& c) {
             c.push_back(static_cast<std::uint32_t>(r.below(h * w)));
         }},
        {"corners", [](std::size_t h, std::size_t w, rng&, std::vector<std::uint32_t>& c) {
             c = {0, static_cast<std::uint32_t>(w - 1), static_cast<std::uint32_t>((h - 1) * w),
                  static_cast<std::uint32_t>(h * w - 1)};
         }},
        {"every row", [](std::size_t h, std::size_t w, rng& r, std::vector<std::uint32_t>& c) {
             for (std::size_t y = 0; y < h; ++y) c.push_back(static_cast<std::uint32_t>(y * w + r.below(w)));
         }},
        {"every column", [](std::size_t h, std::size_t w, rng& r, std::vector<std::uint32_t>& c) {
             for (std::size_t x = 0; x < w; ++x) c.push_back(static_cast<std::uint32_t>(r.below(h) * w + x));
         }},
        {"full row and column", [](std::size_t h, std::size_t w, rng&, std::vector<std::uint32_t>& c) {
             for (std::size_t x = 0; x < w; ++x) c.push_back(static_cast<std::uint32_t>((h / 2) * w + x));
             for (std::size_t y = 0; y < h; ++y) c.push_back(static_cast<std::uint32_t>(y * w + w / 3));
         }},
        {"random 2%", [](std::size_t h, std::size_t w, rng& r, std::vector<std::uint32_t>& c) {
             for (std::size_t i = 0; i < h * w; ++i)
                 if (r.uniform() < 0.02) c.push_back(static_cast<std::uint32_t>(i));
         }},
        {"dense 60%", [](std::size_t h, std::size_t w, rng& r, std::vector<std::uint32_t>& c) {
             for (std::size_t i = 0; i < h * w; ++i)
                 if (r.uniform() < 0.6) c.push_back(static_cast<std::uint32_t>(i));
         }},
    };
}

// One sample per picture kind (cells distinct and sorted), values counts 1..8 or signed floats.
sparse_batch make_batch(std::size_t ch, std::size_t h, std::size_t w, std::uint64_t seed, bool counts) {
    sparse_batch b(ch, h, w);
    rng r(seed);
    for (auto& [name, fn] : pictures()) {
        std::vector<std::uint32_t> cells;
        fn(h, w, r, cells);
        std::sort(cells.begin(), cells.end());
        cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
        std::vector<float> values(cells.size() * ch);
        for (auto& v : values)
            v = counts ? static_cast<float>(1 + r.below(8)) : static_cast<float>(r.uniform(-2.0, 3.0));
        b.push_back(cells, values);
    }
    return b;
}

// Random parameters, biases of both signs (some filters' constant regions die in the ReLU).
template <class Net>
void randomize(Net& net, std::uint64_t seed) {
    net.init(init_scheme::kaiming_uniform, seed);
    rng r(seed + 1);
    auto p = net.params();
    for (const auto& t : Net::tensors())
        if (t.info.role == "bias")
            for (std::size_t i = 0; i < t.info.size(); ++i) p[t.offset + i] = static_cast<float>(r.uniform(-0.3, 0.3));
}

template <class Net>
void check_network(std::uint64_t seed) {
    Net net;
    randomize(net, seed);
    for (bool counts : {true, false}) {
        const auto x = make_batch(Net::input_shape.c, Net::input_shape.h, Net::input_shape.w, seed + 7, counts);
        const std::size_t n = x.size();
        const auto dense = x.densify();
        constexpr std::size_t out = Net::output_shape.size();

        std::vector<float> want(n * out), got(n * out), got1(n * out);
        net.predict(dense.data(), n, want.data(), flowpic::backend::scalar{});
        net.predict(x, got.data(), flowpic::backend::tbb{});
        net.predict(x, got1.data(), flowpic::backend::simd{});
        check_close(want.data(), got.data(), want.size(), 1e-5, "predict");
        CHECK(got == got1);
        for (std::size_t s = 0; s < n; ++s) {  // each sample alone gives the same answer
            sparse_batch one(Net::input_shape.c, Net::input_shape.h, Net::input_shape.w);
            one.push_back(x.cells(s), x.values(s));
            std::vector<float> o(out);
            net.predict(one, o.data(), flowpic::backend::tbb{});
            check_close(want.data() + s * out, o.data(), out, 1e-5, "predict one");
        }

        std::vector<std::int32_t> labels(n);
        for (std::size_t s = 0; s < n; ++s) labels[s] = static_cast<std::int32_t>(s % out);
        const targets t{labels, {}};
        std::vector<float> pw(n * out), pg(n * out);
        const double lw = net.loss(dense.data(), n, t, categorical_crossentropy{}, pw.data(), run_context{},
                                   flowpic::backend::scalar{});
        const double lg = net.loss(x, t, categorical_crossentropy{}, pg.data(), run_context{}, flowpic::backend::tbb{});
        CHECK(lg == doctest::Approx(lw).epsilon(1e-5));
        check_close(pw.data(), pg.data(), pw.size(), 1e-5, "loss probabilities");

        for (bool training : {false, true}) {
            run_context ctx;
            ctx.training = training;
            ctx.seed = seed;
            ctx.step = 3;
            const double gw = net.gradient(dense.data(), n, t, categorical_crossentropy{}, ctx, flowpic::backend::scalar{});
            const std::vector<float> want_g(net.grads().begin(), net.grads().end());
            const double gg = net.gradient(x, t, categorical_crossentropy{}, ctx, flowpic::backend::tbb{});
            const std::vector<float> got_g(net.grads().begin(), net.grads().end());
            net.gradient(x, t, categorical_crossentropy{}, ctx, flowpic::backend::simd{});
            CHECK(std::vector<float>(net.grads().begin(), net.grads().end()) == got_g);
            CHECK(gg == doctest::Approx(gw).epsilon(1e-5));
            for (const auto& tn : Net::tensors())
                check_close(want_g.data() + tn.offset, got_g.data() + tn.offset, tn.info.size(), 1e-5,
                            "gradient of layer " + std::to_string(tn.layer) + " " + tn.info.role +
                                (training ? " (training)" : ""));
        }
    }
}

}  // namespace

TEST_CASE("sparse reference convolution equals the dense reference") {
    for (const kernels::conv_geometry& g : {kernels::conv_geometry{1, 40, 37, 3, 10, 10, 5, 5, 2, 3, 2, 3, 8, 8},
                                           kernels::conv_geometry{2, 17, 23, 4, 3, 3, 2, 2, 1, 1, 0, 0, 9, 11},
                                           kernels::conv_geometry{3, 9, 9, 2, 4, 4, 1, 1, 0, 0, 0, 0, 6, 6}}) {
        rng r(g.h * 31 + g.w);
        std::vector<float> w(g.weight_size()), b(g.f);
        for (auto& v : w) v = static_cast<float>(r.uniform(-1.0, 1.0));
        for (auto& v : b) v = static_cast<float>(r.uniform(-1.0, 1.0));
        const auto x = make_batch(g.c, g.h, g.w, 99, false);
        const auto dense = x.densify();
        for (std::size_t s = 0; s < x.size(); ++s) {
            std::vector<float> want(g.out_size()), got(g.out_size());
            kernels::reference::conv2d_forward(g, w.data(), b.data(), dense.data() + s * g.in_size(), want.data(), 1);
            kernels::reference::sparse_conv2d_forward(g, w.data(), b.data(), x.cells(s), x.values(s), got.data());
            check_close(want.data(), got.data(), want.size(), 1e-6, "forward");

            std::vector<float> dy(g.out_size());
            for (auto& v : dy) v = static_cast<float>(r.uniform(-1.0, 1.0));
            std::vector<float> dw0(g.weight_size(), 0.5f), db0(g.f, 0.25f), dw1 = dw0, db1 = db0;
            kernels::reference::conv2d_backward(g, w.data(), dense.data() + s * g.in_size(), dy.data(),
                                                static_cast<float*>(nullptr), dw0.data(), db0.data(), 1);
            kernels::reference::sparse_conv2d_param_grad(g, x.cells(s), x.values(s), dy.data(), dw1.data(), db1.data());
            check_close(dw0.data(), dw1.data(), dw0.size(), 1e-6, "weight gradient");
            check_close(db0.data(), db1.data(), db0.size(), 1e-6, "bias gradient");
        }
    }
}

TEST_CASE("covering: the outputs whose windows hold a padded coordinate") {
    for (std::size_t k : {1u, 3u, 10u})
        for (std::size_t s : {1u, 2u, 5u})
            for (std::size_t out : {1u, 7u, 30u})
                for (std::size_t p = 0; p < out * s + k; ++p) {
                    const auto c = kernels::covering(p, k, s, out);
                    for (std::size_t o = 0; o < out; ++o) {
                        const bool in = o * s <= p && p < o * s + k;
                        CHECK(in == (o >= c.lo && o < c.hi));
                    }
                }
}

TEST_CASE("sparse input: FlowPic network (same padding, fused pooling, sparse second convolution)") {
    using net_t = networks::shapira2019<5, 120, 110>;
    static_assert(sparse_network<net_t>);
    static_assert(detail::sparse_second_stage<net_t>());
    check_network<net_t>(11);
}

TEST_CASE("sparse input: network_stats (valid padding, one sigmoid output)") {
    using net_t = networks::network_stats<256, 240>;
    static_assert(sparse_network<net_t>);
    net_t net;
    randomize(net, 5);
    const auto x = make_batch(1, 256, 240, 3, true);
    const auto dense = x.densify();
    std::vector<float> want(x.size()), got(x.size());
    net.predict(dense.data(), x.size(), want.data(), flowpic::backend::scalar{});
    net.predict(x, got.data());
    check_close(want.data(), got.data(), want.size(), 1e-5, "predict");
}

TEST_CASE("sparse input: two channels, odd sizes, pooling fused or not") {
    using fused = sequential<input<2, 37, 41>, conv2d<4, 3, 2, padding::same>, relu, max_pool2d<2>,
                             conv2d<6, 3, 1, padding::same>, relu, dropout<0.25>, max_pool2d<2>, flatten, dense<3>, softmax>;
    using plain = sequential<input<2, 33, 29>, conv2d<5, 4, 1>, relu, max_pool2d<3, 2>, conv2d<3, 3>, relu, flatten,
                             dense<7>, relu, dropout<0.5>, dense<4>, softmax>;
    using no_pool = sequential<input<1, 30, 30>, conv2d<3, 5, 3, padding::symmetric<2>>, relu, conv2d<4, 3, 2>, flatten,
                               dense<3>, softmax>;
    static_assert(sparse_network<fused> && sparse_network<plain> && sparse_network<no_pool>);
    check_network<fused>(21);
    check_network<plain>(22);
    check_network<no_pool>(23);
}

TEST_CASE("sparse input: a first stage with dropout, a double network and backend::scalar densify") {
    using drop = sequential<input<1, 20, 20>, conv2d<3, 3>, dropout<0.5>, relu, flatten, dense<2>, softmax>;
    static_assert(!sparse_network<drop>);
    static_assert(!sparse_network<networks::shapira2019<5, 60, 60>::rebind<double>>);
    drop net;
    randomize(net, 3);
    const auto x = make_batch(1, 20, 20, 4, true);
    const auto dense = x.densify();
    std::vector<float> want(x.size() * 2), got(x.size() * 2);
    net.predict(dense.data(), x.size(), want.data(), flowpic::backend::tbb{});
    net.predict(x, got.data(), flowpic::backend::tbb{});
    CHECK(want == got);  // densified: the dense kernels, bit for bit

    networks::shapira2019<3, 60, 60> f;
    randomize(f, 9);
    const auto y = make_batch(1, 60, 60, 5, true);
    const auto yd = y.densify();
    std::vector<float> a(y.size() * 3), b(y.size() * 3);
    f.predict(yd.data(), y.size(), a.data(), flowpic::backend::scalar{});
    f.predict(y, b.data(), flowpic::backend::scalar{});
    CHECK(a == b);
}

TEST_CASE("sparse input: a non-zero background is densified") {
    networks::shapira2019<3, 60, 60> net;
    randomize(net, 4);
    flowpic::picture::sparse_picture<float> p;
    p.height = p.width = 60;
    p.cells = {5, 61, 1000, 3599};
    p.values = {0.25f, 1.0f, 0.0f, 0.75f};
    p.background = {0.5f};
    sparse_batch x(1, 60, 60);
    x.push_back(p);
    x.push_back(p);
    CHECK_THROWS_AS(x.push_back(p, 2.0f), std::invalid_argument);  // another background
    CHECK(!x.zero_background());
    const auto dense = x.densify();
    CHECK(dense[0] == 0.5f);
    CHECK(dense[3600 + 61] == 1.0f);
    std::vector<float> want(6), got(6);
    net.predict(dense.data(), 2, want.data(), flowpic::backend::tbb{});
    net.predict(x, got.data(), flowpic::backend::tbb{});
    CHECK(want == got);
}

TEST_CASE("sparse input: results do not depend on the thread count") {
    using net_t = networks::shapira2019<5, 120, 110>;
    net_t net;
    randomize(net, 8);
    sparse_batch x(1, 120, 110);
    for (int k = 0; k < 5; ++k) x.append(make_batch(1, 120, 110, 40 + static_cast<std::uint64_t>(k), true));
    std::vector<std::int32_t> labels(x.size());
    for (std::size_t s = 0; s < x.size(); ++s) labels[s] = static_cast<std::int32_t>(s % 5);
    run_context ctx;
    ctx.training = true;
    std::vector<float> p1(x.size() * 5), p2(x.size() * 5), g1, g2;
    {
        oneapi::tbb::global_control one(oneapi::tbb::global_control::max_allowed_parallelism, 1);
        net.predict(x, p1.data());
        net.gradient(x, targets{labels, {}}, categorical_crossentropy{}, ctx);
        g1.assign(net.grads().begin(), net.grads().end());
    }
    net.predict(x, p2.data());
    net.gradient(x, targets{labels, {}}, categorical_crossentropy{}, ctx);
    g2.assign(net.grads().begin(), net.grads().end());
    CHECK(p1 == p2);
    CHECK(g1 == g2);
}
