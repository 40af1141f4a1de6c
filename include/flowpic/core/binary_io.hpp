#pragma once
// The little-endian byte codec of flowpic's own binary files (model .fpm, dataset .fpd): numbers,
// LEB128 varints, length-prefixed strings, the FNV-1a checksum, and whole-file reads and writes.
// A reader bounds-checks every field and fails with a flowpic::format_error naming the file and
// the byte offset; the message names the file kind ("truncated model file: ...").

#include <algorithm>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "flowpic/core/atomic_file.hpp"
#include "flowpic/core/error.hpp"

namespace flowpic::binary {

// FNV-1a, 64 bits: the checksum that ends every flowpic binary file.
[[nodiscard]] inline std::uint64_t fnv1a(const void* data, std::size_t n) noexcept {
    const auto* p = static_cast<const std::uint8_t*>(data);
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

// Integers and IEEE floats, stored as their bytes in little-endian order.
template <class T>
concept number = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

namespace detail {
template <class T>
using bits_of = std::conditional_t<sizeof(T) == 1, std::uint8_t,
                std::conditional_t<sizeof(T) == 2, std::uint16_t,
                std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>>;
}  // namespace detail

class writer {
public:
    // `kind` names the file in the errors of str(), e.g. "dataset file".
    explicit writer(std::string kind) : kind_(std::move(kind)) {}

    void bytes(const void* p, std::size_t n) {
        if (n == 0) return;
        const std::size_t at = buf_.size();
        buf_.resize(at + n);  // not insert(): GCC 12 warns falsely (-Wstringop-overflow) on it
        std::memcpy(buf_.data() + at, p, n);
    }
    template <number T>
    void num(T v) {
        using U = detail::bits_of<T>;
        U u;
        std::memcpy(&u, &v, sizeof u);
        for (std::size_t i = 0; i < sizeof u; ++i) buf_.push_back(static_cast<std::uint8_t>(u >> (8 * i)));
    }
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            buf_.push_back(static_cast<std::uint8_t>(v | 0x80));
            v >>= 7;
        }
        buf_.push_back(static_cast<std::uint8_t>(v));
    }
    // A string as its byte count (a Length) and its bytes; std::invalid_argument when too long.
    template <std::unsigned_integral Length>
    void str(std::string_view s) {
        constexpr auto most = std::numeric_limits<Length>::max();
        if (s.size() > most)
            throw std::invalid_argument(kind_ + ": a name longer than " + std::to_string(most) +
                                        " bytes: " + std::string(s.substr(0, 64)));
        num(static_cast<Length>(s.size()));
        bytes(s.data(), s.size());
    }
    // Overwrites the number at byte `at` (a field known only at the end, e.g. the file size).
    template <number T>
    void put(std::size_t at, T v) {
        writer w(std::string{});
        w.num(v);
        std::memcpy(buf_.data() + at, w.buf_.data(), sizeof v);
    }
    // Appends the checksum of every byte so far.
    void checksum() { num(fnv1a(buf_.data(), buf_.size())); }

    [[nodiscard]] std::size_t size() const noexcept { return buf_.size(); }
    [[nodiscard]] const std::vector<std::uint8_t>& data() const noexcept { return buf_; }
    [[nodiscard]] std::vector<std::uint8_t> release() noexcept { return std::move(buf_); }

private:
    std::string kind_;
    std::vector<std::uint8_t> buf_;
};

class reader {
public:
    // How a field that runs past the end is reported: "truncated <kind>: <what> runs past the
    // end", or with counted_bytes "... <what> needs N bytes, M left".
    enum class truncation { past_end, counted_bytes };

    reader(std::span<const std::uint8_t> data, std::string name, std::string kind,
           truncation style = truncation::past_end)
        : data_(data), end_(data.size()), name_(std::move(name)), kind_(std::move(kind)), style_(style) {}

    [[nodiscard]] std::size_t offset() const noexcept { return pos_; }
    [[nodiscard]] std::size_t left() const noexcept { return end_ - pos_; }
    [[nodiscard]] std::span<const std::uint8_t> data() const noexcept { return data_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    // Fields end at `end` from now on (e.g. before a trailing checksum).
    void limit(std::size_t end) noexcept { end_ = end < data_.size() ? end : data_.size(); }

    [[noreturn]] void fail(std::size_t at, const std::string& why) const { throw format_error(location{name_, at}, why); }
    [[noreturn]] void fail(const std::string& why) const { fail(pos_, why); }
    [[noreturn]] void truncated(const char* what, std::size_t n) const {
        fail("truncated " + kind_ + ": " + what +
             (style_ == truncation::counted_bytes
                  ? " needs " + std::to_string(n) + " bytes, " + std::to_string(left()) + " left"
                  : std::string(" runs past the end")));
    }
    void need(std::size_t n, const char* what) const {
        if (n > left()) truncated(what, n);
    }

    template <number T>
    T num(const char* what) {
        need(sizeof(T), what);
        using U = detail::bits_of<T>;
        U u = 0;
        for (std::size_t i = 0; i < sizeof u; ++i) u |= static_cast<U>(static_cast<U>(data_[pos_ + i]) << (8 * i));
        pos_ += sizeof u;
        T v;
        std::memcpy(&v, &u, sizeof v);
        return v;
    }
    // n numbers into out; a count beyond the end fails before anything is read.
    template <number T>
    void nums(T* out, std::size_t n, const char* what) {
        if (n > left() / sizeof(T)) truncated(what, n > ~std::size_t{0} / sizeof(T) ? ~std::size_t{0} : n * sizeof(T));
        for (std::size_t i = 0; i < n; ++i) out[i] = num<T>(what);
    }
    std::uint64_t varint(const char* what) {
        const std::size_t at = pos_;
        std::uint64_t v = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (pos_ >= end_) fail(at, "truncated " + kind_ + ": " + what + " runs past the end");
            const std::uint8_t b = data_[pos_++];
            if (shift == 63 && b > 1) fail(at, std::string(what) + ": varint beyond 64 bits");
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) break;
        }
        return v;
    }
    template <std::unsigned_integral Length>
    std::string str(const char* what) {
        const auto n = num<Length>(what);
        need(n, what);
        std::string s(reinterpret_cast<const char*>(data_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    void skip(std::size_t n, const char* what) {
        need(n, what);
        pos_ += n;
    }

private:
    std::span<const std::uint8_t> data_;
    std::size_t end_;
    std::size_t pos_ = 0;
    std::string name_, kind_;
    truncation style_;
};

// Reading a file that may be huge or endless: a file (or pipe, or device) that does not start
// with `magic` is read no further than its first `head` bytes, for the caller's parser to refuse
// by name ("bad magic") instead of after reading gigabytes; check(head, size) may refuse the file
// from its head and its size (npos for a pipe or device) before the rest is read; a pipe or
// device is read to at most `stream_limit` bytes.
struct read_limits {
    std::string_view magic;
    std::size_t head = 64;
    std::uint64_t stream_limit = std::uint64_t{4} << 30;
    static constexpr std::uint64_t npos = ~std::uint64_t{0};
};

// A whole file's bytes; io_error when it cannot be opened or read, or is a directory.
template <class Check>
[[nodiscard]] std::vector<std::uint8_t> read_file(const std::string& path, const read_limits& lim, Check&& check) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) throw io_error(location{path}, "is a directory, not a file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
    const bool regular = S_ISREG(st.st_mode);
    const std::uint64_t size = regular ? static_cast<std::uint64_t>(st.st_size) : read_limits::npos;
    std::vector<std::uint8_t> bytes;
    const auto read_some = [&](std::size_t n) {
        const std::size_t at = bytes.size();
        bytes.resize(at + n);
        in.read(reinterpret_cast<char*>(bytes.data() + at), static_cast<std::streamsize>(n));
        if (in.bad()) throw io_error(location{path, at}, "read error");
        bytes.resize(at + static_cast<std::size_t>(in.gcount()));
        return static_cast<std::size_t>(in.gcount()) == n;
    };
    bool more = read_some(std::max(lim.head, lim.magic.size()));
    if (!lim.magic.empty() &&
        (bytes.size() < lim.magic.size() || std::memcmp(bytes.data(), lim.magic.data(), lim.magic.size()) != 0))
        return bytes;
    check(std::span<const std::uint8_t>(bytes), size);
    if (regular) bytes.reserve(static_cast<std::size_t>(size) + 1);  // the read past the end finds it
    constexpr std::size_t chunk = std::size_t{1} << 20;
    while (more) {
        if (!regular && bytes.size() >= lim.stream_limit)
            throw format_error(location{path, bytes.size()},
                               "more than " + std::to_string(lim.stream_limit) + " bytes from a pipe or device");
        more = read_some(regular && size > bytes.size() ? static_cast<std::size_t>(size - bytes.size()) + 1 : chunk);
    }
    return bytes;
}

[[nodiscard]] inline std::vector<std::uint8_t> read_file(const std::string& path, const read_limits& lim = {}) {
    return read_file(path, lim, [](std::span<const std::uint8_t>, std::uint64_t) {});
}

// Replaces a file by these bytes, atomically (core/atomic_file.hpp); io_error when it cannot.
inline void write_file(const std::string& path, std::span<const std::uint8_t> bytes) {
    write_file_atomically(path, bytes);
}

}  // namespace flowpic::binary
