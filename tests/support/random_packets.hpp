#pragma once
// Random packets for the picture tests: times around a window [t0, t0 + span] (some before and
// after it, some exactly on its closed end, some on whole milliseconds) and sizes that hit the
// size axis' edges (1500, 1501, and anything up to 70,000).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "flowpic/core/packet.hpp"

namespace flowpic::test {

inline std::vector<packet> random_packets(std::mt19937_64& rng, std::size_t n, std::int64_t t0, std::int64_t span,
                                          bool sorted) {
    std::uniform_int_distribution<std::int64_t> t(t0 - span / 10, t0 + span + span / 10);
    std::uniform_int_distribution<int> kind(0, 9);
    std::uniform_int_distribution<std::uint32_t> any(0, 70000), mtu(0, 1500);
    std::vector<packet> p(n);
    for (auto& q : p) {
        const int k = kind(rng);
        q.time_ns = t(rng);
        if (k == 0) q.time_ns = t0 + span;                                   // the closed end
        if (k == 1) q.time_ns = t0 + (t(rng) - t0) / 1'000'000 * 1'000'000;  // whole milliseconds
        q.size = k == 2 ? any(rng) : k == 3 ? 1500 : k == 4 ? 1501 : mtu(rng);
        q.dir = (rng() & 1) ? direction::reverse : direction::forward;
    }
    if (sorted) std::sort(p.begin(), p.end(), [](const packet& a, const packet& b) { return a.time_ns < b.time_ns; });
    return p;
}

}  // namespace flowpic::test
