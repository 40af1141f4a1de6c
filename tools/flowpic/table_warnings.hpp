#pragma once
// Warnings on stderr for what a run's flow table did not show in its output: packets whose time
// went backwards within their flow (docs/formats.md, "Time order"), and windows that an eviction
// (--max-flows, --max-packets) cut short, so that a limit that stops output says so.

#include <cstdint>
#include <cstdio>
#include <string>

#include "flowpic/pipeline/classification.hpp"

namespace flowpic::tool {

struct table_counts {
    std::uint64_t backwards = 0, late_packets = 0;
    std::uint64_t evicted_max_flows = 0, evicted_max_packets = 0, evicted_windows = 0, evicted_packets = 0;
};

template <class Table>
[[nodiscard]] table_counts counts_of(const Table& table) {
    table_counts c;
    c.backwards = table.stats().backwards;
    c.evicted_max_flows = table.stats().evicted_max_flows;
    c.evicted_max_packets = table.stats().evicted_max_packets;
    if constexpr (requires { table.stage().stats().late_packets; }) {
        c.late_packets = table.stage().stats().late_packets;
        c.evicted_windows = table.stage().stats().evicted_windows;
        c.evicted_packets = table.stage().stats().evicted_packets;
    }
    return c;
}

[[nodiscard]] inline table_counts counts_of(const pipeline_stats& s) {
    return {s.backwards, s.late_packets, s.evicted_max_flows, s.evicted_max_packets, s.evicted_windows, s.evicted_packets};
}

inline void warn_about(const std::string& input, const table_counts& c) {
    const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    if (c.backwards > 0) {
        std::string late;
        if (c.late_packets > 0)
            late = "; " + std::to_string(c.late_packets) + " of them fell before every open window and are in no picture";
        std::fprintf(stderr, "flowpic: warning: %s: %llu packets are earlier than their flow's previous packet%s\n",
                     input.c_str(), u(c.backwards), late.c_str());
    }
    if (c.evicted_windows > 0)
        std::fprintf(stderr,
                     "flowpic: warning: %s: %llu windows (%llu packets) were cut short, giving no block or a partial "
                     "one: their flows were ended early to stay within --max-packets (%llu flows) or --max-flows "
                     "(%llu flows); raise the limit to keep them\n",
                     input.c_str(), u(c.evicted_windows), u(c.evicted_packets), u(c.evicted_max_packets),
                     u(c.evicted_max_flows));
}

}  // namespace flowpic::tool
