#pragma once
// Text fields the tool's CSV outputs share.

#include <cstdint>
#include <cstdio>
#include <string>

#include "flowpic/picture/time_axis.hpp"

namespace flowpic::tool {

// Epoch seconds with microsecond precision, rounded to the nearest microsecond.
inline std::string epoch_seconds(std::int64_t ns) {
    const std::int64_t us = picture::floor_div<1000>(ns + 500);
    const std::int64_t s = picture::floor_div<1'000'000>(us);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(s), static_cast<long long>(us - s * 1'000'000));
    return buf;
}

// RFC 4180 quoting when the value needs it.
inline std::string csv_field(const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

}  // namespace flowpic::tool
