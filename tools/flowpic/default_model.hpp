#pragma once
// The model `flowpic classify` uses without --model: data/models/default.fpm, embedded in the tool
// at build time (tools/CMakeLists.txt), so an installed tool needs no data files.

#include <vector>

namespace flowpic::tool {

inline constexpr const char* default_model_name = "bundled model data/models/default.fpm";

// The windows the bundled model was trained on (data/models/README.md): every complete 15 s
// window of a connection with at least 10 packets; classify uses them unless told otherwise.
inline constexpr bool default_model_all_windows = true;
inline constexpr unsigned default_model_min_packets = 10;

// The model file's bytes; empty when the tool was built without one.
std::vector<unsigned char> default_model_bytes();

}  // namespace flowpic::tool
