// flows::creation_order against sorting every value at the end: random end orders and skips, and
// the memory it holds follows the live flows.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "flowpic/flows/creation_order.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/flows/flow_table.hpp"

using namespace flowpic;

TEST_CASE("creation_order hands out values by id whatever order they end in") {
    std::mt19937_64 rng(20261205);
    for (int trial = 0; trial < 200; ++trial) {
        const std::uint64_t n = 1 + rng() % 300;
        std::vector<std::uint64_t> ends(n);
        std::iota(ends.begin(), ends.end(), 0);
        std::shuffle(ends.begin(), ends.end(), rng);
        std::vector<bool> skip(n);
        for (std::uint64_t i = 0; i < n; ++i) skip[i] = rng() % 5 == 0;
        const bool finish_early = trial % 3 == 0;  // some ids never put nor skipped
        flows::creation_order<std::uint64_t> order;
        std::vector<std::uint64_t> got, want;
        auto take = [&](std::uint64_t& v) { got.push_back(v); };
        for (std::uint64_t k = 0; k < n; ++k) {
            const std::uint64_t id = ends[k];
            if (finish_early && k + 3 >= n) continue;
            if (skip[id]) order.skip(id, take);
            else order.put(id, id * 10, take);
        }
        order.finish(take);
        for (std::uint64_t k = 0; k < n; ++k)
            if (!skip[ends[k]] && !(finish_early && k + 3 >= n)) want.push_back(ends[k] * 10);
        std::sort(want.begin(), want.end());
        CAPTURE(trial);
        CHECK(got == want);
        CHECK(order.waiting() == 0);
    }
}

TEST_CASE("creation_order holds only the flows that ended behind a live one") {
    flows::creation_order<int> order;
    int out = 0;
    auto take = [&](int&) { ++out; };
    order.put(0, 0, take);
    CHECK(out == 1);
    CHECK(order.waiting() == 0);
    for (std::uint64_t id = 2; id < 1000; ++id) order.put(id, 0, take);  // flow 1 still live
    CHECK(out == 1);
    CHECK(order.waiting() == 999);
    order.put(1, 0, take);
    CHECK(out == 1000);
    CHECK(order.waiting() == 0);
    CHECK(order.next_id() == 1000);
    CHECK_THROWS_AS(order.put(5, 0, take), std::logic_error);
}

TEST_CASE("a flow table's rows in creation order equal its flows sorted by id") {
    // many short flows under an idle timeout, ending out of order, one flow live throughout
    std::mt19937_64 rng(7);
    flows::flow_table<flows::unidirectional> table(flows::limits{blocks::seconds(2), 0, 0});
    flows::creation_order<std::uint64_t> order;
    std::vector<std::uint64_t> got, all;
    auto take = [&](std::uint64_t& id) { got.push_back(id); };
    flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) {
                                 all.push_back(f.id);
                                 order.put(f.id, f.id, take);
                             }};
    std::size_t peak = 0;
    for (int i = 0; i < 20000; ++i) {
        keyed_packet kp;
        kp.key.proto = 17;
        kp.key.sport = static_cast<std::uint16_t>(i % 3 == 0 ? 1 : 2 + rng() % 3000);
        kp.key.dport = 53;
        kp.pkt.time_ns = static_cast<std::int64_t>(i) * 1'000'000;
        kp.pkt.size = 100;
        table.add(kp, out);
        peak = std::max(peak, order.waiting());
    }
    table.finish(out);
    order.finish(take);
    std::sort(all.begin(), all.end());
    CHECK(got == all);
    CHECK(peak > 0);  // flow 0 (port 1) lives throughout: the others wait behind it
}
