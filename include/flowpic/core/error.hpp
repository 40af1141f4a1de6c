#pragma once
// The library's error type: every failure on bad input names where it happened.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace flowpic {

// Where in an input an error was found: a byte offset for binary files, a line for text.
struct location {
    std::string file;               // file name or interface; empty when there is none
    std::uint64_t offset = npos;    // byte offset into the file, or npos
    std::uint64_t line = npos;      // 1-based line number, or npos
    static constexpr std::uint64_t npos = ~std::uint64_t{0};

    [[nodiscard]] std::string str() const {
        std::string s = file.empty() ? std::string("<input>") : file;
        // appended piecewise: GCC 12 -O3 warns falsely (-Wrestrict) on `s += ":" + to_string(...)`
        if (line != npos) {
            s += ':';
            s += std::to_string(line);
        }
        if (offset != npos) {
            s += line != npos ? ", byte offset " : ": byte offset ";
            s += std::to_string(offset);
        }
        return s;
    }
};

class error : public std::runtime_error {
public:
    error(location where, const std::string& what)
        : std::runtime_error(where.str() + ": " + what), where_(std::move(where)), reason_(what) {}
    explicit error(const std::string& what) : std::runtime_error(what), reason_(what) {}

    [[nodiscard]] const location& where() const noexcept { return where_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

private:
    location where_;
    std::string reason_;
};

// Bad input data: a corrupt capture, a malformed CSV line, a mismatched model file.
class format_error : public error {
public:
    using error::error;
};

// An operating-system or library failure that is not the data's fault (open, permissions).
class io_error : public error {
public:
    using error::error;
};

// A configured bound (flows, memory) that was reached under a policy that refuses to go on.
class limit_error : public error {
public:
    using error::error;
};

}  // namespace flowpic
