#pragma once
// Files for tests: a private folder removed at the end (CTest runs cases as parallel processes),
// and a byte writer of either endianness for hand-made captures.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace flowpic::test {

class temp_dir {
public:
    explicit temp_dir(std::string_view tag = "test") {
        static std::atomic<int> n{0};
        path = std::filesystem::temp_directory_path() /
               ("flowpic-" + std::string(tag) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    [[nodiscard]] std::string operator/(const std::string& rel) const { return (path / rel).string(); }

    // Writes the first n bytes of data (all by default) to `name` in the folder; returns its path.
    std::string write(const std::string& name, const std::vector<std::uint8_t>& data,
                      std::size_t n = ~std::size_t{0}) const {
        const auto p = (path / name).string();
        std::ofstream out(p, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(std::min(n, data.size())));
        if (!out) throw std::runtime_error("test: cannot write " + p);
        return p;
    }

    std::filesystem::path path;
};

// Little- or big-endian bytes, appended.
struct byte_writer {
    bool big = false;
    std::vector<std::uint8_t> b;
    void u8(std::uint8_t v) { b.push_back(v); }
    void u16(std::uint16_t v) {
        if (big) { u8(static_cast<std::uint8_t>(v >> 8)); u8(static_cast<std::uint8_t>(v)); }
        else { u8(static_cast<std::uint8_t>(v)); u8(static_cast<std::uint8_t>(v >> 8)); }
    }
    void u32(std::uint32_t v) {
        if (big) { u16(static_cast<std::uint16_t>(v >> 16)); u16(static_cast<std::uint16_t>(v)); }
        else { u16(static_cast<std::uint16_t>(v)); u16(static_cast<std::uint16_t>(v >> 16)); }
    }
    void u64(std::uint64_t v) {
        if (big) { u32(static_cast<std::uint32_t>(v >> 32)); u32(static_cast<std::uint32_t>(v)); }
        else { u32(static_cast<std::uint32_t>(v)); u32(static_cast<std::uint32_t>(v >> 32)); }
    }
    void raw(const std::vector<std::uint8_t>& x) { b.insert(b.end(), x.begin(), x.end()); }
    void pad4() { while (b.size() % 4) u8(0); }
};

}  // namespace flowpic::test
