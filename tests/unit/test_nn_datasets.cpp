// Datasets and packet augmentations: sparse pictures densified per batch equal the picture
// stage's dense pictures; augmented blocks follow the definitions of reference.md A.2 (one
// alpha per block, one shift per block, one lost interval of 0.2 s) and are reproducible from
// their seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/flowpic1.hpp"
#include "flowpic/train/augment.hpp"
#include "flowpic/train/dataset.hpp"

using namespace flowpic;
namespace augment = flowpic::train::augment;

namespace {

using mini32 = presets::mini_flowpic::picture;

augment::packet_block block_of(const source::flowpic1_workload& w, std::size_t b) {
    const auto blk = w.block(b);
    return {std::vector<packet>(blk.packets.begin(), blk.packets.end()), blk.window_start_ns, blk.window_end_ns};
}

}  // namespace

TEST_CASE("sparse_dataset densifies exactly the picture stage's dense pictures") {
    const auto w = source::flowpic1_workload::synthetic(12);
    picture::maker<presets::shapira2019::picture> m;
    picture::sparse_stack<std::uint16_t> stack;
    std::vector<std::int32_t> labels;
    for (std::size_t b = 0; b < w.block_count(); ++b) {
        m.sparse(w.block(b), stack);
        labels.push_back(w.labels()[b]);
    }
    const train::sparse_dataset<std::uint16_t> data(stack, labels);
    REQUIRE(data.size() == 12);
    CHECK(data.sample_size() == 1500u * 1500u);
    std::vector<float> got(data.sample_size());
    for (std::size_t b = 0; b < data.size(); ++b) {
        data.fill(b, got.data(), 0);
        const auto& want = m.dense(w.block(b));
        CHECK(std::equal(got.begin(), got.end(), want.data.begin(), [](float g, std::uint16_t v) { return g == float(v); }));
        CHECK(data.label(b) == w.labels()[b]);
    }
}

TEST_CASE("change_rtt stretches times from the block start by one alpha in [0.5, 1.5]") {
    const auto w = source::flowpic1_workload::synthetic(3);
    auto b = block_of(w, 1);
    const auto before = b.packets;
    nn::rng r(5);
    augment::change_rtt{}(b, r);
    REQUIRE(b.packets.size() == before.size());
    const double alpha = double(b.packets.back().time_ns - b.window_start_ns) / double(before.back().time_ns - b.window_start_ns);
    CHECK(alpha >= 0.5);
    CHECK(alpha <= 1.5);
    for (std::size_t i = 0; i < before.size(); ++i) {
        const double want = double(before[i].time_ns - b.window_start_ns) * alpha;
        CHECK(std::abs(double(b.packets[i].time_ns - b.window_start_ns) - want) <= 2.0 + 1e-9 * want);
        CHECK(b.packets[i].size == before[i].size);
    }
}

TEST_CASE("time_shift moves every packet by one b in [-1, 1] s; packet_loss drops one 0.2 s interval") {
    const auto w = source::flowpic1_workload::synthetic(3);
    auto b = block_of(w, 2);
    const auto before = b.packets;
    nn::rng r(6);
    augment::time_shift{}(b, r);
    const auto shift = b.packets[0].time_ns - before[0].time_ns;
    CHECK(std::abs(shift) <= 1'000'000'000);
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(b.packets[i].time_ns - before[i].time_ns == shift);

    std::size_t losing = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        auto c = block_of(w, 2);
        nn::rng rs(seed);
        augment::packet_loss{}(c, rs);
        // the lost packets are consecutive and span at most 0.2 s
        std::size_t first = 0;
        while (first < c.packets.size() && c.packets[first] == before[first]) ++first;
        const std::size_t lost = before.size() - c.packets.size();
        losing += lost > 0;
        if (lost) CHECK(before[first + lost - 1].time_ns - before[first].time_ns <= 200'000'000);
        for (std::size_t i = first; i < c.packets.size(); ++i) CHECK(c.packets[i] == before[i + lost]);
    }
    CHECK(losing > 0);
}

TEST_CASE("packet_dataset: plain pictures equal the maker's, augmented ones follow their seed") {
    const auto w = source::flowpic1_workload::synthetic(6);
    std::vector<augment::packet_block> blocks;
    std::vector<std::int32_t> labels;
    for (std::size_t b = 0; b < w.block_count(); ++b) {
        blocks.push_back(block_of(w, b));
        labels.push_back(w.labels()[b]);
    }
    const augment::packet_dataset<mini32> plain(blocks, labels);
    const augment::packet_dataset<mini32> aug(blocks, labels, {augment::change_rtt{}, augment::time_shift{}});
    picture::maker<mini32> m;
    std::vector<float> a(plain.sample_size()), b(a.size()), c(a.size());
    for (std::size_t i = 0; i < plain.size(); ++i) {
        plain.fill(i, a.data(), 99);
        const auto& want = m.dense(w.block(i));
        CHECK(std::equal(a.begin(), a.end(), want.data.begin()));
        aug.fill(i, b.data(), 7);
        aug.fill(i, c.data(), 7);
        CHECK(b == c);
        aug.fill(i, c.data(), 8);
        CHECK(b != c);
    }
}
