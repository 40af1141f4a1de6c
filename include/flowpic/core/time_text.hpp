#pragma once
// Timestamps as text: every CSV that flowpic writes prints epoch seconds with these digits, so
// that rows of different commands (classify, label, blocks) join on them.

#include <cstdint>
#include <cstdio>
#include <string>

namespace flowpic {

// Epoch seconds with microsecond precision, rounded to the nearest microsecond ("1.000001").
// Times before the epoch print sign and magnitude ("-5.000001"), as the CSV readers parse them.
[[nodiscard]] inline std::string epoch_seconds(std::int64_t ns) {
    auto floor_div = [](std::int64_t a, std::int64_t b) { return a / b - ((a % b) < 0 ? 1 : 0); };
    const std::int64_t us = floor_div(ns + 500, 1000);
    const auto mag = static_cast<unsigned long long>(us < 0 ? -us : us);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%llu.%06llu", us < 0 ? "-" : "", mag / 1'000'000, mag % 1'000'000);
    return buf;
}

}  // namespace flowpic
