// The CUDA backend's host side, without a GPU: error mapping, the policies as API parameters,
// chunk planning and packing, the value table, and both GPU paths emulated on the host with the
// kernels' own per-element functions (flowpic/cuda/picture_math.hpp) against the scalar oracle.
// The GPU itself is tested by tests/cuda (skipped where there is no device).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "picture_compare.hpp"
#include "random_packets.hpp"
#include "test_histograms.hpp"
#include "flowpic/cuda/error.hpp"
#include "flowpic/cuda/picture_math.hpp"
#include "flowpic/picture/kernels/cuda.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"

using namespace flowpic;
namespace pic = flowpic::picture;
namespace math = flowpic::cuda::math;

namespace {

using flowpic::test::random_packets;
using namespace flowpic::test::histograms;
using flowpic::test::same_bits;

template <std::size_t N>
using storage_t = std::conditional_t<N == 1, std::uint8_t,
                                     std::conditional_t<N == 2, std::uint16_t, std::conditional_t<N == 4, std::uint32_t, std::uint64_t>>>;

// What the GPU computes for a chunk of blocks, done on the host element by element with the
// kernels' functions: the sort path (keys, sort, run flags, scan, runs, values) or the shared
// path (counters, maximum, cells in order). Returns the sparse pictures.
template <class H>
std::vector<pic::sparse_picture<typename H::value_type>> emulate(const std::vector<blocks::block>& bl, bool sort_path) {
    using T = typename H::value_type;
    using V = storage_t<sizeof(T)>;
    constexpr std::size_t C = H::channel_count;
    const auto lut = pic::size_lut<typename H::size_axis_type>(H::size_bins);
    T bg[C];
    for (std::size_t c = 0; c < C; ++c) bg[c] = H::channels_type::template background<T>(c);
    const flowpic_cuda_picture_config cfg = pic::cuda_detail::picture_config<H>(lut, bg, pic::cuda_path::automatic, -1);
    const math::bin_params bp = math::make_bin_params(cfg);
    const math::value_params vp = math::make_value_params(cfg);
    const bool dir = math::needs_direction(cfg.channels);
    const math::key_params kp = math::make_key_params(bp.cells, dir);
    REQUIRE(math::channel_count(cfg.channels) == C);

    // pack the whole range as one chunk
    const auto plan = pic::cuda_detail::plan_chunk<H>(bl, 0, true, pic::cuda_options{~std::size_t{0}, ~std::size_t{0}});
    REQUIRE(plan.end == bl.size());
    std::vector<flowpic_cuda_packet> pk(std::max<std::size_t>(plan.packets, 1));
    std::vector<std::uint32_t> off(bl.size() + 1);
    std::vector<flowpic_cuda_block_time> times(bl.size());
    pic::cuda_detail::pack<H>(bl, 0, bl.size(), lut.data(), flowpic_cuda_staging{pk.data(), off.data(), times.data()});
    const std::uint32_t n = off.back();
    REQUIRE(n == plan.packets);

    const auto table_t = pic::cuda_detail::value_table<H>(pic::cuda_detail::table_entries_for(plan.largest));
    std::vector<V> table(table_t.size());
    if (!table.empty()) std::memcpy(table.data(), table_t.data(), table.size() * sizeof(V));

    std::vector<pic::sparse_picture<T>> out(bl.size());
    auto emit = [&](std::size_t b, std::uint32_t cell, std::uint32_t total, std::uint32_t down, std::uint32_t mx) {
        V v[2] = {};
        math::cell_values<V>(total, down, mx, vp, table.data(), v);
        out[b].cells.push_back(cell);
        for (std::size_t c = 0; c < C; ++c) {
            T x;
            std::memcpy(&x, &v[c], sizeof(T));
            out[b].values.push_back(x);
        }
    };
    for (std::size_t b = 0; b < bl.size(); ++b) {
        out[b].channels = C;
        out[b].height = H::height;
        out[b].width = H::width;
        out[b].background.assign(bg, bg + C);
    }

    if (sort_path) {
        std::vector<std::uint64_t> keys(n);
        for (std::uint32_t b = 0; b < bl.size(); ++b)
            for (std::uint32_t i = off[b]; i < off[b + 1]; ++i)
                keys[i] = math::make_key(b, math::cell_of(pk[i].time_ns, pk[i].size, times[b], bp, lut.data()), pk[i].dir == 1, kp);
        std::sort(keys.begin(), keys.end());
        std::vector<std::uint32_t> flags(n + 1, 0), scan(n + 1, 0);
        for (std::uint32_t i = 0; i < n; ++i) flags[i] = math::run_starts(keys.data(), i, kp) ? 1 : 0;
        std::exclusive_scan(flags.begin(), flags.end(), scan.begin(), 0u);
        std::vector<std::uint32_t> rc(n + 1, ~0u), rs(n + 1, ~0u), re(n + 1, ~0u), rd(n + 1, ~0u);
        const math::run_arrays runs{rc.data(), rs.data(), re.data(), rd.data()};
        for (std::uint32_t i = 0; i < n; ++i) math::fill_runs(keys.data(), scan.data(), i, n, kp, runs);
        for (std::size_t b = 0; b < bl.size(); ++b) {
            const std::uint32_t r0 = scan[off[b]], r1 = scan[off[b + 1]];
            std::uint32_t mx = 0;
            for (std::uint32_t r = r0; r < r1; ++r) {
                REQUIRE(re[r] != ~0u);
                REQUIRE(rs[r] < re[r]);
                if (dir) REQUIRE(rd[r] != ~0u);
                mx = std::max(mx, math::largest(re[r] - rs[r], dir ? re[r] - rd[r] : 0u, vp.channels));
            }
            if (vp.counts != FLOWPIC_CUDA_COUNTS_MAX_NORM) mx = 0;
            for (std::uint32_t r = r0; r < r1; ++r) emit(b, rc[r], re[r] - rs[r], dir ? re[r] - rd[r] : 0u, mx);
        }
    } else {
        std::vector<std::uint32_t> total(bp.cells), down(bp.cells);
        for (std::size_t b = 0; b < bl.size(); ++b) {
            std::fill(total.begin(), total.end(), 0u);
            std::fill(down.begin(), down.end(), 0u);
            for (std::uint32_t i = off[b]; i < off[b + 1]; ++i) {
                const std::uint32_t cell = math::cell_of(pk[i].time_ns, pk[i].size, times[b], bp, lut.data());
                if (cell >= bp.cells) continue;
                ++total[cell];
                if (dir && pk[i].dir == 1) ++down[cell];
            }
            std::uint32_t mx = 0;
            if (vp.counts == FLOWPIC_CUDA_COUNTS_MAX_NORM)
                for (std::uint32_t c = 0; c < bp.cells; ++c) mx = std::max(mx, math::largest(total[c], down[c], vp.channels));
            for (std::uint32_t c = 0; c < bp.cells; ++c)
                if (total[c]) emit(b, c, total[c], dir ? down[c] : 0u, mx);
        }
    }
    return out;
}

template <class H>
void check_emulation(const std::vector<blocks::block>& bl) {
    pic::maker<H, backend::scalar> oracle;
    for (bool sort_path : {true, false}) {
        if (!sort_path && H::cells > 70'000) continue;  // the shared path is for small pictures
        CAPTURE(sort_path);
        const auto got = emulate<H>(bl, sort_path);
        for (std::size_t i = 0; i < bl.size(); ++i) {
            CAPTURE(i);
            const auto ref = oracle.sparse(bl[i]);
            CHECK(flowpic::test::same_sparse(got[i], ref));
            CHECK(same_bits(got[i].background, ref.background));
        }
    }
}

}  // namespace

TEST_CASE("cuda host: statuses become flowpic::cuda::error with the operation and the runtime's text") {
    CHECK_NOTHROW(cuda::throw_if_failed(FLOWPIC_CUDA_SUCCESS, "flowpic_cuda_stage", nullptr));
    try {
        cuda::throw_if_failed(35, "flowpic_cuda_create", "CUDA driver version is insufficient for CUDA runtime version");
        FAIL("no exception");
    } catch (const flowpic::error& e) {  // a flowpic error like every other
        const auto* ce = dynamic_cast<const cuda::error*>(&e);
        REQUIRE(ce != nullptr);
        CHECK(ce->status() == 35);
        CHECK(ce->operation() == "flowpic_cuda_create");
        CHECK(ce->no_device());
        const std::string what = e.what();
        CHECK(what.find("flowpic_cuda_create") != std::string::npos);
        CHECK(what.find("status 35") != std::string::npos);
        CHECK(what.find("driver version is insufficient") != std::string::npos);
    }
    try {  // flowpic's own statuses carry their own words, whatever text is passed
        cuda::throw_if_failed(FLOWPIC_CUDA_TABLE_TOO_SMALL, "flowpic_cuda_submit", "ignored");
        FAIL("no exception");
    } catch (const cuda::error& e) {
        CHECK(e.status() == FLOWPIC_CUDA_TABLE_TOO_SMALL);
        CHECK(!e.no_device());
        CHECK(std::string(e.what()).find("value table") != std::string::npos);
    }
    CHECK_THROWS_AS(cuda::throw_if_failed(2, "flowpic_cuda_stage", "out of memory"), cuda::error);  // cudaErrorMemoryAllocation
    CHECK(cuda::error(FLOWPIC_CUDA_NO_DEVICE, "x", "y").no_device());
    CHECK(cuda::error(100, "x", "no CUDA-capable device is detected").no_device());
    for (int s = -6; s <= 0; ++s) CHECK(cuda::status_text(s) != nullptr);
    CHECK(cuda::status_text(1) == nullptr);
}

TEST_CASE("cuda host: the picture policies as API parameters") {
    {
        using H = presets::shapira2019::picture;
        const auto lut = pic::size_lut<H::size_axis_type>(H::size_bins);
        const std::uint16_t bg = 0;
        const auto c = pic::cuda_detail::picture_config<H>(lut, &bg, pic::cuda_path::automatic, -1);
        CHECK(c.height == 1500);
        CHECK(c.width == 1500);
        CHECK(c.time_in_rows == 0);
        CHECK(c.time_bins == 1500);
        CHECK(c.channels == FLOWPIC_CUDA_CHANNELS_COUNTS);
        CHECK(c.counts == FLOWPIC_CUDA_COUNTS_TABLE);
        CHECK(c.value_bytes == 2);
        CHECK(c.value_float == FLOWPIC_CUDA_FLOAT_NONE);
        CHECK(c.clock_quantum_ns == 1000);
        CHECK(c.clock_rounding == FLOWPIC_CUDA_ROUND_HALF_AWAY);
        CHECK(c.clock_divides == 1);
        CHECK(c.clock_divisor == 1e6);
        CHECK(c.open_end == 0);
        CHECK(c.size_lut_length == 1502);
        CHECK(c.size_lut == lut.data());
        CHECK(c.background == &bg);
        CHECK(c.device == -1);
    }
    {
        using H = presets::mini_flowpic::picture;
        const auto lut = pic::size_lut<H::size_axis_type>(H::size_bins);
        const float bg = 0;
        const auto c = pic::cuda_detail::picture_config<H>(lut, &bg, pic::cuda_path::sort, 1);
        CHECK(c.open_end == 1);
        CHECK(c.clock_quantum_ns == 1);
        CHECK(c.clock_divisor == 1e9);
        CHECK(c.value_bytes == 4);
        CHECK(c.value_float == FLOWPIC_CUDA_FLOAT_F32);
        CHECK(c.counts == FLOWPIC_CUDA_COUNTS_TABLE);  // clip255: a table, as every policy without a maximum
        CHECK(c.path == FLOWPIC_CUDA_PATH_SORT);
        CHECK(c.device == 1);
    }
    {
        using H = presets::network_stats::picture;
        const auto lut = pic::size_lut<H::size_axis_type>(H::size_bins);
        const float bg[2] = {0.0f, 0.5f};
        const auto c = pic::cuda_detail::picture_config<H>(lut, bg, pic::cuda_path::automatic, -1);
        CHECK(c.time_in_rows == 1);
        CHECK(c.channels == FLOWPIC_CUDA_CHANNELS_DOWNLOAD_FRACTION);
        CHECK(c.counts == FLOWPIC_CUDA_COUNTS_MAX_NORM);
        CHECK(c.clock_quantum_ns == 1'000'000);
        CHECK(c.clock_rounding == FLOWPIC_CUDA_ROUND_FLOOR);
        CHECK(c.clock_divides == 0);
    }
    static_assert(pic::cuda_detail::support<small_bytes>::storable);
    static_assert(!pic::cuda_detail::support<pic::histogram<pic::counts::raw<long double>>>::storable);
    static_assert(pic::cuda_detail::support<fixed_first>::known_counts);
    CHECK(pic::cuda_detail::table_entries_for(0) == 1024);
    CHECK(pic::cuda_detail::table_entries_for(1023) == 1024);
    CHECK(pic::cuda_detail::table_entries_for(1024) == 2048);
    CHECK(pic::cuda_detail::table_entries_for(70000) == 131072);
    const auto t = pic::cuda_detail::value_table<pic::histogram<pic::counts::log1p<float>>>(300);
    for (std::uint32_t c = 0; c < 300; ++c) CHECK(t[c] == static_cast<float>(std::log1p(static_cast<double>(c))));
    const auto u = pic::cuda_detail::value_table<presets::shapira2019::picture>(70000);
    CHECK(u[65535] == 65535);
    CHECK(u[69999] == 65535);  // saturated as the CPU saturates
}

TEST_CASE("cuda host: chunks respect their limits and pack blocks as the maker prepares them") {
    using H = presets::shapira2019::picture;
    std::mt19937_64 rng(3);
    const std::int64_t t0 = 1'700'000'000'000'000'000;
    std::vector<std::vector<packet>> pk;
    std::vector<blocks::block> bl;
    flows::flow owner;
    owner.first_ns = t0 - 5'000'000'000;
    for (std::size_t n : {5u, 0u, 300u, 17u, 1u, 4000u, 2u, 0u, 900u}) pk.push_back(random_packets(rng, n, t0, 60'000'000'000, true));
    for (auto& p : pk) bl.push_back(blocks::block{&owner, p, t0, t0 + 60'000'000'000, 0});

    const pic::cuda_options o{1000, ~std::size_t{0}};
    std::size_t first = 0, chunks = 0;
    while (first < bl.size()) {
        const auto p = pic::cuda_detail::plan_chunk<H>(bl, first, true, o);
        REQUIRE(p.end > first);
        std::size_t packets = 0, largest = 0;
        for (std::size_t i = first; i < p.end; ++i) {
            packets += bl[i].packets.size();
            largest = std::max(largest, bl[i].packets.size());
        }
        CHECK(p.packets == packets);
        CHECK(p.largest == largest);
        CHECK((p.packets <= 1000 || p.end == first + 1));  // a lone large block is a chunk of its own
        if (p.end < bl.size()) CHECK(p.packets + bl[p.end].packets.size() > 1000);  // as full as allowed
        first = p.end;
        ++chunks;
    }
    CHECK(chunks == 3);  // 323 packets | the 4000-packet block alone | 902
    // dense chunks are bounded by their output: 4.5 MB per 1500x1500 uint16 picture
    const auto d = pic::cuda_detail::plan_chunk<H>(bl, 0, false, pic::cuda_options{~std::size_t{0}, 3 * H::cells * 2});
    CHECK(d.end == 3);
    CHECK(pic::cuda_detail::output_bytes<H>(3, 100, false) == 3 * H::cells * 2);
    CHECK(pic::cuda_detail::output_bytes<H>(3, 100, true) == 100 * 6 + 3 * 4);

    // packing: back-to-back records, offsets, each block's time constants from prepare_time
    const auto lut = pic::size_lut<H::size_axis_type>(H::size_bins);
    std::size_t total = 0;
    for (const auto& b : bl) total += b.packets.size();
    std::vector<flowpic_cuda_packet> rec(total);
    std::vector<std::uint32_t> off(bl.size() + 1, 99);
    std::vector<flowpic_cuda_block_time> times(bl.size());
    pic::cuda_detail::pack<H>(bl, 0, bl.size(), lut.data(), flowpic_cuda_staging{rec.data(), off.data(), times.data()});
    CHECK(off.front() == 0);
    CHECK(off.back() == total);
    for (std::size_t b = 0; b < bl.size(); ++b) {
        CAPTURE(b);
        CHECK(off[b + 1] - off[b] == bl[b].packets.size());
        for (std::size_t i = 0; i < bl[b].packets.size(); ++i) {
            const auto& r = rec[off[b] + i];
            const auto& q = bl[b].packets[i];
            CHECK(r.time_ns == q.time_ns);
            CHECK(r.size == q.size);
            CHECK(r.dir == static_cast<std::uint8_t>(q.dir));
        }
        const auto tp = pic::prepare_time<H::time_axis_type>(bl[b], H::time_bins, [&](std::uint32_t s) {
            return lut[pic::size_lut_index<H::size_axis_type>(s)] >= 0;
        });
        CHECK(times[b].origin == tp.origin);
        CHECK(same_bits(times[b].x0, tp.x0));
        CHECK(same_bits(times[b].span, tp.span));
    }
}

TEST_CASE("cuda host: the kernels' arithmetic is the scalar kernel's") {
    for (std::int32_t n : {1, 32, 1500}) {
        std::vector<double> vals = {-1.0, -0.0, 0.0, std::numeric_limits<double>::quiet_NaN(), INFINITY, -INFINITY, n + 0.5};
        for (std::int32_t k = 0; k <= n; ++k)
            for (double v : {static_cast<double>(k), std::nextafter(static_cast<double>(k), -INFINITY),
                             std::nextafter(static_cast<double>(k), INFINITY)})
                vals.push_back(v);
        for (double v : vals) CHECK(math::unit_bin(v, n) == pic::unit_bin(v, n));
    }
    for (std::int64_t d = -3000; d <= 3000; d += 7) {
        CHECK(math::quantise(d, 1000, FLOWPIC_CUDA_ROUND_HALF_AWAY) == pic::quantise<pic::clock::authors_us>(d));
        CHECK(math::quantise(d, 1'000'000, FLOWPIC_CUDA_ROUND_FLOOR) == pic::quantise<pic::clock::epoch_ticks<1'000'000>>(d));
        CHECK(math::quantise(d, 1, FLOWPIC_CUDA_ROUND_FLOOR) == d);
    }
    CHECK(math::bits_for(0) == 0);
    CHECK(math::bits_for(1) == 1);
    CHECK(math::bits_for(2'250'000) == 22);
    const auto k = math::make_key_params(2'250'000, true);
    CHECK(k.key_bits == 23);  // 2 * cells (the dropped key) fits
    const std::uint64_t key = math::make_key(5, 1234, true, k);
    CHECK(math::key_cell(key, k) == 1234);
    CHECK(math::key_down(key, k));
    CHECK(math::key_valid(key, k));
    CHECK(!math::key_valid(math::make_key(5, 2'250'000, true, k), k));  // dropped
    CHECK(math::make_key(5, 2'250'000, true, k) > math::make_key(5, 2'249'999, true, k));
    CHECK(math::make_key(5, 2'250'000, true, k) < math::make_key(6, 0, false, k));
}

TEST_CASE("cuda host: both GPU paths, emulated on the host, equal the scalar oracle") {
    std::mt19937_64 rng(7);
    const std::int64_t t0 = 1'700'000'000'123'456'789;
    std::vector<std::vector<packet>> pk;
    for (std::size_t n : {0u, 1u, 2u, 3u, 17u, 300u, 2000u})
        for (bool sorted : {true, false}) pk.push_back(random_packets(rng, n, t0, 60'000'000'000, sorted));
    // edge cases: a zero span, every size beyond the range, many packets in one cell
    pk.push_back(std::vector<packet>(5, packet{t0 + 7, 700, direction::reverse}));
    {
        std::vector<packet> sz;
        for (std::uint32_t s : {0u, 1u, 1500u, 1501u, 65535u}) sz.push_back({t0 + static_cast<std::int64_t>(sz.size()) * 1'000'000'000, s, direction::forward});
        pk.push_back(sz);
    }
    {
        std::vector<packet> many(3000, packet{t0 + 1'000'000, 100, direction::forward});
        many.push_back({t0 + 2'000'000'000, 100, direction::reverse});
        pk.push_back(many);
    }
    flows::flow owner;
    owner.first_ns = t0 - 12'345'678'901;
    std::vector<blocks::block> bl;
    for (std::size_t i = 0; i < pk.size(); ++i)
        bl.push_back(blocks::block{i % 3 ? &owner : nullptr, pk[i], t0, t0 + 60'000'000'000, i});

    check_emulation<presets::shapira2019::picture>(bl);
    check_emulation<presets::mini_flowpic::picture>(bl);
    check_emulation<presets::mini_flowpic64::picture>(bl);
    check_emulation<presets::mini_flowpic1500::picture>(bl);
    check_emulation<presets::network_stats::picture>(bl);
    check_emulation<transposed_log>(bl);
    check_emulation<first15_64>(bl);
    check_emulation<rect_ns>(bl);
    check_emulation<fixed_first>(bl);
    check_emulation<small_bytes>(bl);
    check_emulation<small_log>(bl);
    check_emulation<small_max>(bl);
}
