// Picture policies and kernels: numpy's bin rule against a literal searchsorted, the clocks
// against brute force, and every backend and path against the scalar oracle on random blocks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "random_packets.hpp"
#include "test_histograms.hpp"
#include "flowpic/picture/many_blocks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"

using namespace flowpic;
namespace pic = flowpic::picture;

namespace {

// numpy.histogram2d's rule, literally: searchsorted(edges, v, 'right') - 1 over edges 0..n,
// values equal to the last edge moved into the last bin, the rest outside.
std::int32_t searchsorted_bin(double v, std::int32_t n) {
    std::vector<double> edges(static_cast<std::size_t>(n) + 1);
    for (std::int32_t k = 0; k <= n; ++k) edges[static_cast<std::size_t>(k)] = k;
    // NaN sorts after every number in numpy
    std::ptrdiff_t idx = std::isnan(v) ? static_cast<std::ptrdiff_t>(edges.size())
                                       : std::upper_bound(edges.begin(), edges.end(), v) - edges.begin();
    if (v == edges.back()) --idx;
    if (idx <= 0 || idx > n) return -1;
    return static_cast<std::int32_t>(idx - 1);
}

using flowpic::test::random_packets;
using namespace flowpic::test::histograms;

template <class H>
void check_backends_equal(const blocks::block& b) {
    pic::maker<H, backend::scalar> s;
    pic::maker<H, backend::simd> v;
    pic::maker<H, backend::tbb> t;
    const auto ref = s.sparse(b);
    CHECK((v.sparse(b) == ref));
    CHECK((t.sparse(b) == ref));
    const auto dense = ref.densify();
    CHECK((s.dense(b) == dense));
    CHECK((v.dense(b) == dense));
    s.force_path(pic::maker<H, backend::scalar>::path::grid);
    CHECK((s.sparse(b) == ref));
    v.force_path(pic::maker<H, backend::simd>::path::sort);
    CHECK((v.sparse(b) == ref));
    CHECK((v.dense(b) == dense));
}

}  // namespace

TEST_CASE("unit_bin is numpy's searchsorted rule at, next to and between the edges") {
    for (std::int32_t n : {1, 2, 32, 64, 1500}) {
        std::vector<double> vals = {-1.0, -0.0, 0.0, std::nextafter(0.0, -1.0), std::numeric_limits<double>::quiet_NaN(),
                                    INFINITY, -INFINITY, 1e300, static_cast<double>(n) + 0.5};
        for (std::int32_t k = 0; k <= n; ++k) {
            vals.push_back(k);
            vals.push_back(std::nextafter(static_cast<double>(k), -INFINITY));
            vals.push_back(std::nextafter(static_cast<double>(k), INFINITY));
            vals.push_back(k + 0.5);
        }
        for (double v : vals) {
            CAPTURE(n);
            CAPTURE(v);
            CHECK(pic::unit_bin(v, n) == searchsorted_bin(v, n));
        }
    }
    CHECK(pic::unit_bin(1500.0, 1500) == 1499);  // the last bin is closed
    CHECK(pic::unit_bin(std::nextafter(1500.0, 0.0), 1500) == 1499);
    CHECK(pic::unit_bin(1499.0, 1500) == 1499);
    CHECK(pic::unit_bin(std::nextafter(1499.0, 0.0), 1500) == 1498);
}

TEST_CASE("clock quantisation: floor and ties away from zero, also before the origin") {
    for (std::int64_t d = -5000; d <= 5000; ++d) {
        CAPTURE(d);
        CHECK(pic::floor_div<1000>(d) == static_cast<std::int64_t>(std::floor(static_cast<double>(d) / 1000.0)));
        const double r = static_cast<double>(d) / 1000.0;
        CHECK(pic::quantise<pic::clock::authors_us>(d) == static_cast<std::int64_t>(std::round(r)));  // std::round: ties away
    }
    CHECK(pic::clock_value<pic::clock::authors_us>(1'000'000'500, 0) == 1.000001);
    CHECK(pic::clock_value<pic::clock::authors_us>(1'000'000'499, 0) == 1.0);
    CHECK(pic::clock_value<pic::clock::seconds>(1'500'000'000, 0) == 1.5);
    CHECK(pic::clock_value<pic::clock::epoch_ticks<1'000'000>>(-1, 0) == -1.0);
}

TEST_CASE("size axes: identity and tcbench's scaled sizes, drop and clip") {
    const auto id = pic::size_lut<pic::size_axis::identity<>>(1500);
    CHECK(id.size() == 1502);
    CHECK(id[0] == 0);
    CHECK(id[1499] == 1499);
    CHECK(id[1500] == 1499);  // closed last bin
    CHECK(id[pic::size_lut_index<pic::size_axis::identity<>>(1501)] == -1);
    CHECK(id[pic::size_lut_index<pic::size_axis::identity<>>(65535)] == -1);
    const auto sc = pic::size_lut<pic::size_axis::scaled<>>(1500);
    CHECK(sc[27] == 26);  // (27 / 1500) * 1500 < 27 in float64, as in tcbench
    CHECK(sc[1500] == 1499);
    CHECK(sc[pic::size_lut_index<pic::size_axis::scaled<>>(65535)] == 1499);  // clipped
    const auto s32 = pic::size_lut<pic::size_axis::scaled<>>(32);
    for (std::uint32_t s = 0; s <= 1500; ++s) CHECK(s32[s] == static_cast<std::int32_t>(std::min<std::uint32_t>(s * 32 / 1500, 31)));
}

TEST_CASE("every backend and both step-3 paths equal the scalar oracle on random blocks") {
    std::mt19937_64 rng(7);
    const std::int64_t t0 = 1'700'000'000'123'456'789;
    for (std::size_t n : {0u, 1u, 2u, 3u, 17u, 300u, 5000u}) {
        for (bool sorted : {true, false}) {
            CAPTURE(n);
            CAPTURE(sorted);
            const auto pk = random_packets(rng, n, t0, 60'000'000'000, sorted);
            flows::flow owner;
            owner.first_ns = t0 - 12'345'678'901;
            const blocks::block b{&owner, pk, t0, t0 + 60'000'000'000, 3};
            const blocks::block orphan{nullptr, pk, t0, t0 + 60'000'000'000, 3};
            check_backends_equal<presets::shapira2019::picture>(b);
            check_backends_equal<presets::shapira2019::picture>(orphan);
            check_backends_equal<presets::mini_flowpic::picture>(b);
            check_backends_equal<presets::mini_flowpic1500::picture>(b);
            check_backends_equal<presets::network_stats::picture>(b);
            check_backends_equal<transposed_log>(b);
            check_backends_equal<first15_64>(b);
            check_backends_equal<rect_ns>(b);
            check_backends_equal<fixed_first>(b);
        }
    }
}

TEST_CASE("simd's multiply estimate falls back to the exact formula at and next to every bin edge") {
    // Times on every bin edge of the fixed 15 s / 32-bin axis and of a stretched 1.5 s axis, and
    // 1 ns either side: the estimate cannot decide these, the exact path must.
    const std::int64_t t0 = 1'600'000'000'000'000'000;
    std::vector<packet> fixed, stretched;
    for (std::int64_t k = 0; k <= 32; ++k)
        for (std::int64_t d : {-1, 0, 1}) fixed.push_back({t0 + k * 15'000'000'000 / 32 + d, 700, direction::forward});
    std::sort(fixed.begin(), fixed.end(), [](const packet& a, const packet& b) { return a.time_ns < b.time_ns; });
    for (std::int64_t k = 0; k <= 1500; ++k)
        for (std::int64_t d : {-1000, 0, 1000}) stretched.push_back({t0 + 1000 + k * 1'000'000 + d, 1400, direction::forward});
    std::sort(stretched.begin(), stretched.end(), [](const packet& a, const packet& b) { return a.time_ns < b.time_ns; });
    const blocks::block bf{nullptr, fixed, t0, t0 + 15'000'000'000, 0};
    const blocks::block bs{nullptr, stretched, t0, t0 + 2'000'000'000, 0};
    check_backends_equal<presets::mini_flowpic::picture>(bf);
    check_backends_equal<presets::mini_flowpic1500::picture>(bf);
    check_backends_equal<presets::shapira2019::picture>(bs);
    check_backends_equal<presets::network_stats::picture>(bs);
    // every edge of the 32 bins is hit exactly: 33 edges, the last one closed
    pic::maker<presets::mini_flowpic::picture, backend::simd> m;
    const auto p = m.sparse(bf);
    float total = 0;
    for (float v : p.values) total += v * 255.0f;
    // 99 packets; dropped: t0 - 1 ns (before the window) and t0 + 15 s, + 1 ns (the open end)
    CHECK(total == doctest::Approx(96));
}

TEST_CASE("edge cases: empty block, one packet, zero span, sizes beyond the range") {
    const std::int64_t t0 = 1'600'000'000'000'000'000;
    pic::maker<presets::shapira2019::picture> a1;
    pic::maker<presets::mini_flowpic::picture> a2;
    pic::maker<presets::network_stats::picture> a3;
    const std::vector<packet> none;
    const blocks::block empty{nullptr, none, t0, t0 + 15'000'000'000, 0};
    CHECK(a1.sparse(empty).nnz() == 0);
    CHECK((a1.dense(empty) == a1.blank()));
    CHECK((a3.dense(empty) == a3.blank()));
    CHECK(a3.blank().channel(1)[0] == 0.5f);  // empty cells: half downloaded

    // one packet: the stretched span is 0, (t - t0) / 0 is NaN and numpy drops it
    const std::vector<packet> one{{t0 + 1'000'000'000, 700, direction::reverse}};
    const blocks::block b1{nullptr, one, t0, t0 + 15'000'000'000, 0};
    CHECK(a1.sparse(b1).nnz() == 0);
    CHECK(a3.sparse(b1).nnz() == 0);
    const auto p2 = a2.sparse(b1);  // a fixed window places it: 1/15 * 32 = 2.13 -> column 2
    REQUIRE(p2.nnz() == 1);
    CHECK(p2.cells[0] == std::min<std::uint32_t>(700 * 32 / 1500, 31) * 32 + 2);
    CHECK(p2.values[0] == static_cast<float>(1.0 / 255.0));

    // sizes 0, 1500, 1501, 65535: A.1 drops above 1500, A.2 clips to 1500
    std::vector<packet> sz;
    for (std::uint32_t s : {0u, 1500u, 1501u, 65535u}) sz.push_back({t0 + static_cast<std::int64_t>(sz.size()) * 1'000'000'000, s, direction::forward});
    const blocks::block bs{nullptr, sz, t0, t0 + 15'000'000'000, 0};
    const auto s1 = a1.sparse(bs);
    REQUIRE(s1.nnz() == 2);
    CHECK(s1.cells[0] == 0 * 1500 + 0);          // size 0, time 0
    CHECK(s1.cells[1] == 1499 * 1500 + 500);     // size 1500 -> last row; t = 1/3 of the span
    const auto s2 = a2.sparse(bs);
    CHECK(s2.nnz() == 4);
    CHECK(std::count_if(s2.cells.begin(), s2.cells.end(), [](std::uint32_t c) { return c / 32 == 31; }) == 3);

    // counts saturate at 65535 in uint16
    std::vector<packet> many(70000, packet{t0, 100, direction::forward});
    many.push_back({t0 + 1'000'000'000, 100, direction::forward});
    const blocks::block bm{nullptr, many, t0, t0 + 60'000'000'000, 0};
    const auto sm = a1.sparse(bm);
    REQUIRE(sm.nnz() == 2);
    CHECK(sm.values[0] == 65535);
    CHECK(sm.values[1] == 1);
}

TEST_CASE("sparse stack: order, densify and O(non-zero cells) memory") {
    std::mt19937_64 rng(11);
    const std::int64_t t0 = 1'600'000'000'000'000'000;
    std::vector<std::vector<packet>> pk;
    std::vector<blocks::block> bl;
    for (int i = 0; i < 40; ++i) pk.push_back(random_packets(rng, 100 + 50 * static_cast<std::size_t>(i), t0, 60'000'000'000, true));
    for (auto& p : pk) bl.push_back(blocks::block{nullptr, p, t0, t0 + 60'000'000'000, 0});
    using H = presets::shapira2019::picture;
    const auto seq = pic::make_sparse_stack<H, backend::simd>(bl);
    const auto par = pic::make_sparse_stack<H, backend::tbb>(bl);
    REQUIRE(seq.size() == bl.size());
    REQUIRE(par.size() == bl.size());
    pic::maker<H, backend::scalar> m;
    std::size_t nnz = 0;
    for (std::size_t i = 0; i < bl.size(); ++i) {
        const auto one = m.sparse(bl[i]);
        nnz += one.nnz();
        CHECK(std::equal(one.cells.begin(), one.cells.end(), seq[i].cells.begin(), seq[i].cells.end()));
        CHECK(std::equal(one.values.begin(), one.values.end(), par[i].values.begin(), par[i].values.end()));
        CHECK((par[i].densify() == one.densify()));
    }
    CHECK(seq.nnz() == nnz);
    // 4 bytes per cell index + 2 per uint16 value + 8 per picture offset
    CHECK(seq.bytes() == nnz * 6 + (bl.size() + 1) * 8);
    pic::sparse_stack<std::uint16_t> joined;
    joined.append(seq);
    CHECK(joined.size() == seq.size());
    CHECK(joined.nnz() == seq.nnz());
}

TEST_CASE("presets: names and their policies") {
    int hits = 0;
    for (const auto& n : presets::names()) {
        presets::visit(n, [&](auto p) {
            using P = decltype(p);
            CHECK(P::name == n);
            ++hits;
        });
    }
    CHECK(hits == 5);
    CHECK_THROWS_AS(presets::visit("nope", [](auto) {}), std::invalid_argument);
    static_assert(presets::shapira2019::picture::height == 1500);
    static_assert(presets::mini_flowpic::picture::width == 32);
    static_assert(presets::network_stats::picture::time_in_rows);
    static_assert(presets::network_stats::picture::channel_count == 2);
}
