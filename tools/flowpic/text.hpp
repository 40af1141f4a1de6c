#pragma once
// Text fields the tool's CSV outputs share.

#include <cstdint>
#include <cstdio>
#include <string>

#include "flowpic/core/time_text.hpp"
#include "flowpic/labels/csv_text.hpp"

namespace flowpic::tool {

using flowpic::epoch_seconds;

// RFC 4180 quoting when the value needs it (the library's, so that label files quote alike).
inline std::string csv_field(const std::string& v) { return labels::csv_quote(v); }

}  // namespace flowpic::tool
