#pragma once
// Where the shared, third-party test data lives (../shared/data beside the checkout by default).

#include <cstdlib>
#include <filesystem>
#include <string>

#ifndef FLOWPIC_DEFAULT_SHARED_DATA
#define FLOWPIC_DEFAULT_SHARED_DATA "../shared/data"
#endif
#ifndef FLOWPIC_SOURCE_DIR
#define FLOWPIC_SOURCE_DIR "."
#endif

namespace flowpic::test {

inline std::string shared_data_dir() {
    if (const char* e = std::getenv("FLOWPIC_SHARED_DATA"); e && *e) return e;
    return FLOWPIC_DEFAULT_SHARED_DATA;
}

inline bool shared_data_available() {
    return std::filesystem::is_directory(std::filesystem::path(shared_data_dir()) / "fixtures");
}

inline std::string shared(const std::string& rel) { return shared_data_dir() + "/" + rel; }

// Files committed in the repository (tests/data, data/).
inline std::string repo(const std::string& rel) { return std::string(FLOWPIC_SOURCE_DIR) + "/" + rel; }

}  // namespace flowpic::test
