#pragma once
// The model `flowpic classify` uses without --model: data/models/default.fpm, embedded in the tool
// at build time (tools/CMakeLists.txt), so an installed tool needs no data files.

#include <vector>

namespace flowpic::tool {

inline constexpr const char* default_model_name = "bundled model data/models/default.fpm";

// The model file's bytes; empty when the tool was built without one.
std::vector<unsigned char> default_model_bytes();

}  // namespace flowpic::tool
