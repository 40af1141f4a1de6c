#pragma once
// Timestamps as text: every CSV that flowpic writes prints epoch seconds with these digits, so
// that rows of different commands (classify, label, blocks) join on them.

#include <cstdint>
#include <cstdio>
#include <string>

namespace flowpic {

// Epoch seconds with microsecond precision, rounded to the nearest microsecond ("1.000001").
[[nodiscard]] inline std::string epoch_seconds(std::int64_t ns) {
    auto floor_div = [](std::int64_t a, std::int64_t b) { return a / b - ((a % b) < 0 ? 1 : 0); };
    const std::int64_t us = floor_div(ns + 500, 1000);
    const std::int64_t s = floor_div(us, 1'000'000);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(s), static_cast<long long>(us - s * 1'000'000));
    return buf;
}

}  // namespace flowpic
