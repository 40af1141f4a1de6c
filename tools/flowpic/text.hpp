#pragma once
// Text fields the tool's CSV outputs share.

#include <cstdint>
#include <cstdio>
#include <string>

#include "flowpic/core/time_text.hpp"

namespace flowpic::tool {

using flowpic::epoch_seconds;

// RFC 4180 quoting when the value needs it.
inline std::string csv_field(const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

}  // namespace flowpic::tool
