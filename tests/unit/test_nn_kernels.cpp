// The vectorised kernels against the scalar oracle: forward outputs and every gradient (dropout
// active) on networks that exercise strides, paddings, fused and unfused pooling and odd sizes;
// results independent of the thread count and of how a batch is split; the building blocks
// (row splitting, GEMM micro-kernels) against their definitions.
//
// Tolerance: the oracle sums in double, the fast kernels in float in another order, so they
// differ by float rounding: relative to the largest value of a tensor, 1e-5 covers sums of
// ~1000 terms (conv2 of the FlowPic network) with room to spare, and any indexing or masking
// mistake shows as errors of order 1.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include <oneapi/tbb/global_control.h>

#include "flowpic/nn/kernels/conv.hpp"
#include "flowpic/nn/kernels/simd.hpp"
#include "flowpic/nn/networks.hpp"

using namespace flowpic::nn;

namespace {

double max_abs(const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, double(std::abs(x)));
    return m;
}

void check_same(const std::vector<float>& a, const std::vector<float>& b, double rel, const char* what) {
    REQUIRE(a.size() == b.size());
    const double scale = std::max(max_abs(a), 1e-30);
    double err = 0;
    for (std::size_t i = 0; i < a.size(); ++i) err = std::max(err, double(std::abs(a[i] - b[i])));
    INFO(what << ": max error " << err << " of max " << scale);
    CHECK(err <= rel * scale);
}

template <class Net>
std::vector<float> sparse_input(std::size_t n, std::uint64_t seed) {
    rng r(seed);
    std::vector<float> x(n * Net::input_shape.size(), 0.0f);
    for (auto& v : x)
        if (r.uniform() < 0.3) v = static_cast<float>(r.uniform(-1.0, 4.0));
    return x;
}

// As a FlowPic: most rows empty (the kernels skip rows of zeros), the rest sparse.
template <class Net>
std::vector<float> flowpic_input(std::size_t n, std::uint64_t seed) {
    auto x = sparse_input<Net>(n, seed);
    rng r(seed + 5);
    constexpr auto s = Net::input_shape;
    for (std::size_t row = 0; row < n * s.c * s.h; ++row)
        if (r.uniform() < 0.7) std::fill_n(x.begin() + static_cast<std::ptrdiff_t>(row * s.w), s.w, 0.0f);
    return x;
}

template <class Net, class Loss = categorical_crossentropy, bool FlowPic = false>
void fast_equals_scalar(std::size_t n, std::uint64_t seed) {
    Net net(init_scheme::glorot_uniform, seed);
    // Glorot leaves biases at zero; give them values so that bias gradients and ReLU thresholds matter
    auto p = net.params();
    rng r(seed + 99);
    for (const auto& t : Net::tensors())
        if (t.info.role == "bias")
            for (std::size_t i = 0; i < t.info.size(); ++i) p[t.offset + i] = static_cast<float>(r.uniform(-0.1, 0.1));
    const auto x = FlowPic ? flowpic_input<Net>(n, seed) : sparse_input<Net>(n, seed);
    const std::size_t out = Net::output_shape.size();
    std::vector<float> a(n * out), b(n * out), c(n * out);
    net.predict(x.data(), n, a.data(), flowpic::backend::scalar{});
    net.predict(x.data(), n, b.data(), flowpic::backend::simd{});
    net.predict(x.data(), n, c.data(), flowpic::backend::tbb{});
    check_same(a, b, 1e-5, "simd probabilities");
    check_same(a, c, 1e-5, "tbb probabilities");

    std::vector<std::int32_t> labels(n);
    for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>(i % std::max<std::size_t>(2, out));
    const run_context ctx{true, seed, 4, 0, 0};  // dropout active: the same masks everywhere
    const double la = net.gradient(x.data(), n, targets{labels, {}}, Loss{}, ctx, flowpic::backend::scalar{});
    const std::vector<float> ga(net.grads().begin(), net.grads().end());
    const double lb = net.gradient(x.data(), n, targets{labels, {}}, Loss{}, ctx, flowpic::backend::tbb{});
    const std::vector<float> gb(net.grads().begin(), net.grads().end());
    CHECK(std::abs(la - lb) <= 1e-5 * std::abs(la));
    for (const auto& t : Net::tensors()) {
        const std::vector<float> sa(ga.begin() + static_cast<std::ptrdiff_t>(t.offset),
                                    ga.begin() + static_cast<std::ptrdiff_t>(t.offset + t.info.size()));
        const std::vector<float> sb(gb.begin() + static_cast<std::ptrdiff_t>(t.offset),
                                    gb.begin() + static_cast<std::ptrdiff_t>(t.offset + t.info.size()));
        INFO("tensor " << t.group << "." << t.info.role);
        CHECK(max_abs(sa) > 0);
        check_same(sa, sb, 1e-5, "gradient");
    }
}

using strides_and_pads =
    sequential<input<2, 37, 29>, conv2d<5, 3, 2, padding::explicit_pads<1, 0, 2, 1>>, relu, max_pool2d<2>,
               conv2d<7, 4, 3, padding::same>, dropout<0.3>, max_pool2d<3, 2>, flatten, dense<9>, relu, dense<3>, softmax>;
using wide_pool = sequential<input<1, 40, 200>, conv2d<3, 5, 1, padding::symmetric<2>>, dropout2d<0.25>, relu,
                             max_pool2d<3>, conv2d<12, 3, 2>, max_pool2d<2>, flatten, dense<4>, softmax>;
using no_conv = sequential<input<1, 7, 9>, flatten, dense<33>, relu, dropout<0.5>, dense<1>, sigmoid>;

}  // namespace

TEST_CASE("fast kernels equal the scalar oracle: presets") {
    fast_equals_scalar<networks::mini_flowpic<5>>(37, 1);  // several chunks
    fast_equals_scalar<networks::mini_flowpic<4, 64>>(5, 2);
    fast_equals_scalar<networks::shapira2019<5, 333, 250>>(3, 3);
    fast_equals_scalar<networks::network_stats<301, 280>, binary_crossentropy>(2, 4);
    fast_equals_scalar<networks::shapira2019<5, 400, 333>, categorical_crossentropy, true>(3, 5);
}

TEST_CASE("fast kernels equal the scalar oracle: strides, paddings, unfused and overlapping pooling") {
    static_assert(strides_and_pads::stages::size > 5);
    fast_equals_scalar<strides_and_pads>(6, 5);
    fast_equals_scalar<wide_pool>(4, 6);
    fast_equals_scalar<no_conv, binary_crossentropy>(9, 7);
}

TEST_CASE("results do not depend on the thread count or on how the batch is cut") {
    using net_t = networks::shapira2019<5, 260, 240>;
    net_t net(init_scheme::glorot_uniform, 8);
    const std::size_t n = 7;
    const auto x = sparse_input<net_t>(n, 8);
    std::vector<std::int32_t> labels{0, 1, 2, 3, 4, 0, 1};
    const run_context ctx{true, 8, 1, 0, 0};
    std::vector<float> g1, g2, p1(n * 5), p2(n * 5), single(5);
    double l1 = 0, l2 = 0;
    {
        oneapi::tbb::global_control one(oneapi::tbb::global_control::max_allowed_parallelism, 1);
        l1 = net.gradient(x.data(), n, targets{labels, {}}, categorical_crossentropy{}, ctx);
        g1.assign(net.grads().begin(), net.grads().end());
        net.predict(x.data(), n, p1.data());
    }
    {
        oneapi::tbb::global_control two(oneapi::tbb::global_control::max_allowed_parallelism, 2);
        l2 = net.gradient(x.data(), n, targets{labels, {}}, categorical_crossentropy{}, ctx);
        g2.assign(net.grads().begin(), net.grads().end());
        net.predict(x.data(), n, p2.data());
        net.predict(x.data() + 3 * net_t::input_shape.size(), 1, single.data());  // row-parallel path
    }
    CHECK(l1 == l2);
    CHECK(std::memcmp(g1.data(), g2.data(), g1.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(p1.data(), p2.data(), p1.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(single.data(), p1.data() + 3 * 5, 5 * sizeof(float)) == 0);
}

TEST_CASE("row splitting: every stride, pad and length against its definition") {
    using kernels::simd::deinterleave_row;
    rng r(9);
    for (std::size_t s = 1; s <= 16; ++s)
        for (std::size_t w : {1u, 15u, 16u, 17u, 150u, 301u})
            for (std::size_t pl : {0u, 2u, 7u}) {
                std::vector<float> x(w);
                for (auto& v : x) v = static_cast<float>(r.uniform(-1, 1));
                const std::size_t lph = ((w + pl) / s + 24) / 16 * 16 + 16;
                std::vector<float> out(s * lph, -7.0f);
                deinterleave_row(x.data(), w, pl, s, lph, out.data());
                bool ok = true;
                for (std::size_t p = 0; p < s; ++p)
                    for (std::size_t j = 0; j < lph; ++j) {
                        const std::size_t q = j * s + p;
                        const float want = q >= pl && q - pl < w ? x[q - pl] : 0.0f;
                        ok = ok && out[p * lph + j] == want;
                    }
                INFO("stride " << s << " width " << w << " pad " << pl);
                CHECK(ok);
            }
}

TEST_CASE("GEMM micro-kernels: every tile height against the plain triple loop") {
    namespace sd = kernels::simd_detail;
    rng r(10);
    for (std::size_t M : {1u, 5u, 10u, 14u, 15u, 29u})
        for (std::size_t N : {1u, 16u, 33u, 70u}) {
            const std::size_t K = 23;
            std::vector<float> a(M * K), b(K * (N + 64)), c(M * N, 1.0f), want(M * N, 1.0f);
            for (auto& v : a) v = static_cast<float>(r.uniform(-1, 1));
            for (auto& v : b) v = static_cast<float>(r.uniform(-1, 1));
            std::vector<const float*> rows(K);
            for (std::size_t k = 0; k < K; ++k) rows[k] = b.data() + k * (N + 64);
            for (std::size_t m = 0; m < M; ++m)
                for (std::size_t j = 0; j < N; ++j) {
                    double s = 1.0;
                    for (std::size_t k = 0; k < K; ++k) s += double(a[m * K + k]) * rows[k][j];
                    want[m * N + j] = static_cast<float>(s);
                }
            const auto mb = sd::m_blocks::plan(M);
            std::vector<float> packed(M * K);
            sd::pack_a(a.data(), K, 1, K, mb, packed.data());
            sd::gemm_nn_exact(mb, N, K, packed.data(), rows.data(), 0, c.data(), N, true);
            INFO("M " << M << " N " << N);
            check_same(want, c, 1e-6, "nn");
        }
}
