#pragma once
// CSV rows of flows and blocks as the flowpic tool prints them.

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

#include "flowpic/blocks/block.hpp"
#include "flowpic/flows/flow.hpp"

namespace flowpic::flows {

// Epoch seconds with nanosecond digits (at least microsecond precision is the contract).
[[nodiscard]] inline std::string format_time(std::int64_t ns) {
    char buf[48];
    const bool neg = ns < 0;
    const std::uint64_t a = neg ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
    std::snprintf(buf, sizeof buf, "%s%llu.%09llu", neg ? "-" : "",
                  static_cast<unsigned long long>(a / 1'000'000'000ULL), static_cast<unsigned long long>(a % 1'000'000'000ULL));
    return buf;
}

// Epoch seconds at microsecond precision (rounded down), as index files carry them.
[[nodiscard]] inline std::string format_time_us(std::int64_t ns) {
    std::int64_t us = ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
    char buf[48];
    const bool neg = us < 0;
    const std::uint64_t a = neg ? static_cast<std::uint64_t>(-us) : static_cast<std::uint64_t>(us);
    std::snprintf(buf, sizeof buf, "%s%llu.%06llu", neg ? "-" : "",
                  static_cast<unsigned long long>(a / 1'000'000ULL), static_cast<unsigned long long>(a % 1'000'000ULL));
    return buf;
}

inline constexpr const char* flow_csv_header = "src,dst,sport,dport,proto,packets,bytes,first,last";
inline constexpr const char* block_csv_header = "src,dst,sport,dport,proto,block_start,block_end,index,packets,first,last";

// Sessions of sources without addresses (per-packet CSV) print as "session<N>" in the src column.
[[nodiscard]] inline std::string key_csv(const flow_key& k) {
    const std::string src = (k.src.family == ip_family::none && k.session != 0)
                                ? "session" + std::to_string(k.session)
                                : k.src.str();
    return src + "," + k.dst.str() + "," + std::to_string(k.sport) + "," + std::to_string(k.dport) + "," +
           std::to_string(k.proto);
}

[[nodiscard]] inline std::string flow_csv_row(const flow& f) {
    return key_csv(f.key) + "," + std::to_string(f.packets) + "," + std::to_string(f.bytes) + "," +
           format_time(f.first_ns) + "," + format_time(f.last_ns);
}

[[nodiscard]] inline std::string block_csv_row(const blocks::block& b) {
    return key_csv(b.owner->key) + "," + format_time(b.window_start_ns) + "," + format_time(b.window_end_ns) + "," +
           std::to_string(b.index) + "," + std::to_string(b.packets.size()) + "," +
           format_time(b.packets.front().time_ns) + "," + format_time(b.packets.back().time_ns);
}

}  // namespace flowpic::flows
