// backend::cuda against the scalar oracle, bit for bit: every preset and policy combination of
// the CPU tests (value types of 1, 2, 4 and 8 bytes, one and two channels, both orientations,
// every clock, fixed and stretched axes), dense and sparse, both GPU paths, chunks small enough
// that both slots turn over many times, random blocks and edge cases. Runs only where a CUDA
// device is present (main.cpp); the suite "without-device" runs only where none is.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "picture_compare.hpp"
#include "random_packets.hpp"
#include "test_histograms.hpp"
#include "flowpic/cuda/error.hpp"
#include "flowpic/picture/kernels/cuda.hpp"
#include "flowpic/picture/many_blocks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"

using namespace flowpic;
namespace pic = flowpic::picture;

namespace {

using flowpic::test::random_packets;
using namespace flowpic::test::histograms;
using flowpic::test::same_bits;
using flowpic::test::same_dense;
using flowpic::test::same_sparse;

// Blocks of every kind the CPU tests use, as one range.
struct test_blocks {
    std::vector<std::vector<packet>> packets;
    std::vector<blocks::block> blocks;
    flows::flow owner;

    test_blocks() {
        std::mt19937_64 rng(7);
        const std::int64_t t0 = 1'700'000'000'123'456'789;
        owner.first_ns = t0 - 12'345'678'901;
        auto add = [&](std::vector<packet> p, std::int64_t start, std::int64_t len, bool owned) {
            packets.push_back(std::move(p));
            windows.push_back({start, len, owned});
        };
        for (std::size_t n : {0u, 1u, 2u, 3u, 17u, 300u, 5000u})
            for (bool sorted : {true, false}) add(random_packets(rng, n, t0, 60'000'000'000, sorted), t0, 60'000'000'000, true);
        for (int i = 0; i < 40; ++i)
            add(random_packets(rng, 20 + rng() % 3000, t0, 60'000'000'000, true), t0, 60'000'000'000, i % 2);
        // one packet, a zero span, sizes 0 / 1 / 1500 / 1501 / 65535, an empty block between
        add({{t0 + 1'000'000'000, 700, direction::reverse}}, t0, 15'000'000'000, false);
        add(std::vector<packet>(9, packet{t0 + 5, 1400, direction::reverse}), t0, 15'000'000'000, true);
        {
            std::vector<packet> sz;
            for (std::uint32_t s : {0u, 1u, 1500u, 1501u, 65535u})
                sz.push_back({t0 + static_cast<std::int64_t>(sz.size()) * 1'000'000'000, s, direction::forward});
            add(sz, t0, 15'000'000'000, false);
        }
        add({}, t0, 15'000'000'000, false);
        // every bin edge of a 15 s / 32-bin window and of a stretched 1.5 s span, and 1 ns around
        {
            std::vector<packet> fixed, stretched;
            for (std::int64_t k = 0; k <= 32; ++k)
                for (std::int64_t d : {-1, 0, 1}) fixed.push_back({t0 + k * 15'000'000'000 / 32 + d, 700, direction::forward});
            for (std::int64_t k = 0; k <= 1500; ++k)
                for (std::int64_t d : {-1000, 0, 1000})
                    stretched.push_back({t0 + 1000 + k * 1'000'000 + d, 1400, (k & 1) ? direction::reverse : direction::forward});
            std::sort(fixed.begin(), fixed.end(), [](const packet& a, const packet& b) { return a.time_ns < b.time_ns; });
            std::sort(stretched.begin(), stretched.end(), [](const packet& a, const packet& b) { return a.time_ns < b.time_ns; });
            add(fixed, t0, 15'000'000'000, false);
            add(stretched, t0, 2'000'000'000, false);
        }
        // 70,000 packets in one cell: uint16 saturation, a value table beyond 65,536 counts
        {
            std::vector<packet> many(70000, packet{t0, 100, direction::forward});
            many.push_back({t0 + 1'000'000'000, 100, direction::reverse});
            add(many, t0, 60'000'000'000, false);
        }
        for (std::size_t i = 0; i < packets.size(); ++i)
            blocks.push_back(blocks::block{windows[i].owned ? &owner : nullptr, packets[i], windows[i].start,
                                           windows[i].start + windows[i].len, i});
    }

private:
    struct window {
        std::int64_t start, len;
        bool owned;
    };
    std::vector<window> windows;
};

const test_blocks& all_blocks() {
    static const test_blocks b;
    return b;
}

template <class H>
constexpr bool shared_fits = H::cells * (H::channels_type::needs_direction ? 2 : 1) * 4 <= 32 * 1024;

// Every output of a cuda_maker with these options against the oracle.
template <class H>
void check_maker(const std::vector<blocks::block>& bl, const std::vector<pic::sparse_picture<typename H::value_type>>& ref,
                 pic::cuda_options o) {
    using T = typename H::value_type;
    pic::cuda_maker<H> gpu(o);
    CHECK((o.path == pic::cuda_path::automatic || gpu.path() == o.path));
    for (int round = 0; round < 2; ++round) {  // the second round reuses grown buffers and the value table
        CAPTURE(round);
        const auto stack = gpu.make_sparse_stack(bl);
        REQUIRE(stack.size() == bl.size());
        std::size_t bad = 0;
        for (std::size_t i = 0; i < bl.size(); ++i) {
            const auto v = stack[i];
            const bool ok = same_sparse(v, ref[i]);
            if (!ok && bad++ < 3) MESSAGE("sparse picture of block " << i << " differs (nnz " << v.nnz() << " vs " << ref[i].nnz() << ")");
        }
        CHECK(bad == 0);
        bad = 0;
        std::size_t seen = 0;
        gpu.for_each_dense(bl, [&](std::size_t i, const pic::dense_picture<T>& d) {
            CHECK(i == seen++);  // in block order
            const auto want = ref[i].densify();
            if (!same_dense(d, want) && bad++ < 3)
                MESSAGE("dense picture of block " << i << " differs");
        });
        CHECK(seen == bl.size());
        CHECK(bad == 0);
    }
}

template <class H>
void check_policy() {
    const auto& tb = all_blocks();
    const auto& bl = tb.blocks;
    pic::maker<H, backend::scalar> oracle;
    std::vector<pic::sparse_picture<typename H::value_type>> ref;
    for (const auto& b : bl) ref.push_back(oracle.sparse(b));

    const pic::cuda_options defaults{};
    const pic::cuda_options tiny{4000, 3 * H::channel_count * H::cells * sizeof(typename H::value_type)};
    check_maker<H>(bl, ref, defaults);
    check_maker<H>(bl, ref, pic::cuda_options{tiny.chunk_packets, tiny.chunk_bytes, pic::cuda_path::sort});
    if constexpr (shared_fits<H>) {
        check_maker<H>(bl, ref, pic::cuda_options{tiny.chunk_packets, tiny.chunk_bytes, pic::cuda_path::shared});
        CHECK(pic::cuda_maker<H>().path() == pic::cuda_path::shared);
    } else {
        CHECK_THROWS_AS(pic::cuda_maker<H>(pic::cuda_options{defaults.chunk_packets, defaults.chunk_bytes, pic::cuda_path::shared}),
                        cuda::error);
        CHECK(pic::cuda_maker<H>().path() == pic::cuda_path::sort);
    }

    // the generic entry points
    const auto stack = pic::make_sparse_stack<H, backend::cuda>(bl);
    REQUIRE(stack.size() == bl.size());
    for (std::size_t i = 0; i < bl.size(); ++i) {
        CHECK(same_sparse(stack[i], ref[i]));
    }
}

}  // namespace

TEST_CASE("cuda: shapira2019 (1500x1500 uint16, sort path)") { check_policy<presets::shapira2019::picture>(); }
TEST_CASE("cuda: mini_flowpic 32, 64 and 1500") {
    check_policy<presets::mini_flowpic::picture>();
    check_policy<presets::mini_flowpic64::picture>();
    check_policy<presets::mini_flowpic1500::picture>();
}
TEST_CASE("cuda: network_stats (time rows, max_norm, download fraction)") {
    check_policy<presets::network_stats::picture>();
    check_policy<a3>();
}
TEST_CASE("cuda: log1p values come from the host's table") {
    check_policy<a1_log1p>();
    check_policy<transposed_log>();
    check_policy<small_log>();
}
TEST_CASE("cuda: by_direction, raw counts of 1, 4 and 8 bytes") {
    check_policy<a1_bydir>();
    check_policy<rect_ns>();
    check_policy<small_bytes>();
    check_policy<small_max>();
    check_policy<raw_float_fraction>();
}
TEST_CASE("cuda: fixed windows from the first packet and tcbench's first 15 s") {
    check_policy<fixed_first>();
    check_policy<first15_64>();
}

TEST_CASE("cuda: dense chunks, dense stacks, an exception in the callback, an empty range") {
    using H = presets::mini_flowpic::picture;
    const auto& bl = all_blocks().blocks;
    pic::maker<H, backend::scalar> oracle;
    pic::cuda_maker<H> gpu(pic::cuda_options{2000, 64 * 1024});
    const auto stack = gpu.dense_stack(bl);
    REQUIRE(stack.size() == bl.size() * H::cells);
    for (std::size_t i = 0; i < bl.size(); ++i) {
        const auto& d = oracle.dense(bl[i]);
        CHECK(same_bits(std::span(stack.data() + i * H::cells, H::cells), d.data));
    }
    std::size_t next = 0;
    gpu.for_each_dense_chunk(bl, [&](std::size_t first, std::size_t count, std::span<const float> nchw) {
        CHECK(first == next);
        CHECK(nchw.size() == count * H::cells);
        next = first + count;
    });
    CHECK(next == bl.size());
    // a throwing callback leaves the maker usable
    CHECK_THROWS_AS(gpu.for_each_dense(bl, [](std::size_t i, const auto&) {
        if (i == 5) throw std::runtime_error("stop");
    }),
                    std::runtime_error);
    CHECK(gpu.dense_stack(bl) == stack);
    const std::vector<blocks::block> none;
    CHECK(gpu.make_sparse_stack(none).size() == 0);
    CHECK(gpu.dense_stack(none).empty());
}

TEST_CASE("cuda: the raw API checks its arguments and its slots" * doctest::test_suite("api")) {
    using H = presets::mini_flowpic::picture;
    const auto lut = pic::size_lut<H::size_axis_type>(H::size_bins);
    const float bg = 0;
    flowpic_cuda_picture_config cfg = pic::cuda_detail::picture_config<H>(lut, &bg, pic::cuda_path::automatic, -1);
    flowpic_cuda_context* ctx = nullptr;
    REQUIRE(flowpic_cuda_create(&cfg, &ctx) == FLOWPIC_CUDA_SUCCESS);
    flowpic_cuda_result r{};
    CHECK(flowpic_cuda_wait(ctx, 0, &r) == FLOWPIC_CUDA_BAD_STATE);
    CHECK(flowpic_cuda_submit(ctx, 0, FLOWPIC_CUDA_OUTPUT_DENSE) == FLOWPIC_CUDA_BAD_STATE);
    flowpic_cuda_staging st{};
    CHECK(flowpic_cuda_stage(ctx, 2, 1, 1, &st) == FLOWPIC_CUDA_INVALID_ARGUMENT);
    REQUIRE(flowpic_cuda_stage(ctx, 0, 1, 1, &st) == FLOWPIC_CUDA_SUCCESS);
    st.offsets[0] = 0;
    st.offsets[1] = 1;
    st.packets[0] = flowpic_cuda_packet{1'000'000'000, 700, 0, {}};
    st.times[0] = flowpic_cuda_block_time{0, 0.0, 15.0};
    CHECK(flowpic_cuda_submit(ctx, 0, FLOWPIC_CUDA_OUTPUT_SPARSE) == FLOWPIC_CUDA_TABLE_TOO_SMALL);  // no table yet
    const auto table = pic::cuda_detail::value_table<H>(1024);
    REQUIRE(flowpic_cuda_set_table(ctx, table.data(), table.size()) == FLOWPIC_CUDA_SUCCESS);
    st.offsets[1] = 2;  // does not match the staged packet count
    CHECK(flowpic_cuda_submit(ctx, 0, FLOWPIC_CUDA_OUTPUT_SPARSE) == FLOWPIC_CUDA_INVALID_ARGUMENT);
    st.offsets[1] = 1;
    REQUIRE(flowpic_cuda_submit(ctx, 0, FLOWPIC_CUDA_OUTPUT_SPARSE) == FLOWPIC_CUDA_SUCCESS);
    CHECK(flowpic_cuda_stage(ctx, 0, 1, 1, &st) == FLOWPIC_CUDA_BAD_STATE);  // in flight
    REQUIRE(flowpic_cuda_wait(ctx, 0, &r) == FLOWPIC_CUDA_SUCCESS);
    REQUIRE(r.nnz[0] == 1);
    CHECK(r.cells[0] == std::min<std::uint32_t>(700 * 32 / 1500, 31) * 32 + 2);  // as the CPU edge-case test
    CHECK(static_cast<const float*>(r.values)[0] == static_cast<float>(1.0 / 255.0));
    flowpic_cuda_destroy(ctx);
    cfg.value_bytes = 3;
    CHECK(flowpic_cuda_create(&cfg, &ctx) == FLOWPIC_CUDA_INVALID_ARGUMENT);
}

TEST_CASE("without a device: the library reports it as flowpic::cuda::error" * doctest::test_suite("without-device")) {
    int count = -1;
    const int s = flowpic_cuda_device_count(&count);
    CHECK(count == 0);
    CHECK(flowpic_cuda_error_string(s) != nullptr);
    try {
        pic::cuda_maker<presets::mini_flowpic::picture> gpu;
        FAIL("a cuda_maker was made without a device");
    } catch (const cuda::error& e) {
        MESSAGE(std::string(e.what()));
        CHECK(e.no_device());
        CHECK(e.operation() == "flowpic_cuda_create");
        CHECK(std::string(e.what()).find("flowpic_cuda_create") != std::string::npos);
    }
    // the generic entry point throws the same error
    const std::vector<blocks::block> none(1);
    auto generic = [&] { return pic::make_sparse_stack<presets::shapira2019::picture, backend::cuda>(none); };
    CHECK_THROWS_AS((void)generic(), cuda::error);
    // arguments are checked before the device is looked for
    flowpic_cuda_context* ctx = nullptr;
    CHECK(flowpic_cuda_create(nullptr, &ctx) == FLOWPIC_CUDA_INVALID_ARGUMENT);
    flowpic_cuda_picture_config bad{};
    CHECK(flowpic_cuda_create(&bad, &ctx) == FLOWPIC_CUDA_INVALID_ARGUMENT);
    CHECK(ctx == nullptr);
    flowpic_cuda_destroy(nullptr);
}
