#pragma once
// What the CSV sources share: a text file read through fixed buffers at explicit offsets, so
// that several cursors can walk one row (times and sizes of a row are far apart) in bounded
// memory whatever the row length; strict number parsing; errors naming the file and line.

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "flowpic/config.hpp"
#include "flowpic/core/error.hpp"

namespace flowpic::source::detail {

// Times beyond +-2^62 ns (about 146 years around 1970) are refused, so that the window arithmetic
// downstream (first + k * stride + length) cannot overflow.
inline constexpr std::int64_t max_abs_time_ns = std::int64_t{1} << 62;

// Shows a field in an error message: at most 40 characters, control bytes escaped.
[[nodiscard]] inline std::string show(std::string_view s) {
    std::string out = "'";
    const std::size_t n = s.size() < 40 ? s.size() : 40;
    for (std::size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != 0x7f) {
            out += static_cast<char>(c);
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    if (s.size() > n) out += "...";
    out += "'";
    return out;
}

// A read-only file opened once and read with pread, so cursors at different offsets share it.
class text_file {
public:
    explicit text_file(std::string path) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw io_error(location{path_}, std::string("cannot open: ") + std::strerror(errno));
    }
    text_file(const text_file&) = delete;
    text_file& operator=(const text_file&) = delete;
    ~text_file() { ::close(fd_); }

    // Reads up to n bytes at `offset`; fewer only at the end of the file.
    std::size_t read_at(std::uint64_t offset, char* buf, std::size_t n) const {
        std::size_t got = 0;
        while (got < n) {
            const ssize_t r = ::pread(fd_, buf + got, n - got, static_cast<off_t>(offset + got));
            if (r == 0) break;
            if (r < 0) {
                if (errno == EINTR) continue;
                throw io_error(location{path_, offset + got}, std::string("read error: ") + std::strerror(errno));
            }
            got += static_cast<std::size_t>(r);
        }
        return got;
    }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    // Out of line and cold: error paths stay off the parsing loops.
    [[noreturn, gnu::cold, gnu::noinline]] void fail(std::uint64_t line, const std::string& what) const {
        throw format_error(location{path_, location::npos, line}, what);
    }

private:
    std::string path_;
    int fd_ = -1;
};

// One field or list item and what ended it: ',' or ';', '\n' (end of line), or 0 (end of file).
struct token {
    std::string_view text;  // without a trailing '\r' before '\n'; valid until the cursor moves
    char end = 0;
    [[nodiscard]] bool ends_line() const noexcept { return end == '\n' || end == 0; }
};

// The buffer of each cursor. The fuzzers shrink it to walk the refill paths; leave it alone.
#ifndef FLOWPIC_CSV_BUFFER_BYTES
#define FLOWPIC_CSV_BUFFER_BYTES 65536
#endif

// A position in a text_file with its own 64 KiB buffer. A field must fit the buffer; a row need not.
class cursor {
public:
    static constexpr std::size_t capacity = FLOWPIC_CSV_BUFFER_BYTES;
    static_assert(capacity >= 16, "flowpic: FLOWPIC_CSV_BUFFER_BYTES is too small");

    cursor() = default;
    explicit cursor(const text_file& f) : file_(&f), buf_(new char[capacity]) {}

    [[nodiscard]] std::uint64_t offset() const noexcept { return base_ + pos_; }
    [[nodiscard]] std::uint64_t line() const noexcept { return line_; }

    // Moves to `offset` (on 1-based `line`); keeps the buffer when it already holds the offset.
    void seek(std::uint64_t offset, std::uint64_t line) noexcept {
        if (offset >= base_ && offset <= base_ + len_) {
            pos_ = static_cast<std::size_t>(offset - base_);
        } else {
            base_ = offset;
            pos_ = len_ = 0;
            eof_ = false;
        }
        line_ = line;
    }

    // True when no byte is left.
    [[nodiscard]] bool at_end() {
        if (pos_ < len_) return false;
        refill(pos_);
        return pos_ >= len_;
    }

    // Skips a UTF-8 byte-order mark at the start of the file.
    void skip_bom() {
        if (offset() != 0) return;
        if (len_ - pos_ < 3) refill(pos_);
        if (len_ - pos_ >= 3 && std::memcmp(buf_.get() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
    }

    // Consumes an empty line ("\n" or "\r\n") if one comes next.
    bool skip_blank_line() {
        if (len_ - pos_ < 2) refill(pos_);
        if (pos_ < len_ && buf_[pos_] == '\n') {
            ++pos_;
            ++line_;
            return true;
        }
        if (pos_ + 1 < len_ && buf_[pos_] == '\r' && buf_[pos_ + 1] == '\n') {
            pos_ += 2;
            ++line_;
            return true;
        }
        return false;
    }

    // The next field, up to ',' or the end of the line. A field may be quoted: "a ""b"", c".
    token field() {
        if (pos_ >= len_) refill(pos_);
        if (pos_ < len_ && buf_[pos_] == '"') return quoted();
        return scan(false);
    }

    // The next item of a ';'-separated list inside a field: ends at ';', ',' or the end of the line.
    token item() { return scan(true); }

    // Skips up to n unquoted fields; returns how many ended with ','. Fewer than n means the line
    // (end = '\n') or the file (end = 0) ended first, just after the field that ended it.
    std::uint64_t skip_fields(std::uint64_t n, char& end) {
        std::uint64_t done = 0;
        end = ',';
        while (done < n) {
            if (pos_ >= len_ && refill(pos_) == 0) {
                end = 0;
                return done;
            }
            const char* b = buf_.get();
            std::size_t i = pos_;
            for (; i < len_; ++i) {
                const char c = b[i];
                if (c == ',') {
                    if (++done == n) {
                        ++i;
                        break;
                    }
                } else if (c == '\n') {
                    pos_ = i + 1;
                    ++line_;
                    end = '\n';
                    return done;
                }
            }
            pos_ = i;
        }
        return done;
    }

private:
    // Moves bytes [from, len_) to the front and reads more behind them; returns the bytes added.
    std::size_t refill(std::size_t from) {
        if (from > 0) {
            std::memmove(buf_.get(), buf_.get() + from, len_ - from);
            base_ += from;
            len_ -= from;
            pos_ -= from;
        }
        if (len_ == capacity || eof_) return 0;
        const std::size_t got = file_->read_at(base_ + len_, buf_.get() + len_, capacity - len_);
        len_ += got;
        if (len_ < capacity) eof_ = true;  // a short read is the end of the file
        return got;
    }

    [[noreturn]] void too_long() const {
        file_->fail(line_, "a field is longer than " + std::to_string(capacity) + " bytes");
    }

    token scan(bool list_item) {
        std::size_t i = pos_;
        for (;;) {
            const char* b = buf_.get();
            for (; i < len_; ++i) {
                const char c = b[i];
                if (c == ',' || c == '\n' || (list_item && c == ';')) return finish(i, c);
            }
            const std::size_t scanned = i - pos_;
            if (refill(pos_) == 0) {
                if (!eof_) too_long();
                return finish(len_, 0);  // the end of the file ends the field
            }
            i = pos_ + scanned;
        }
    }

    token finish(std::size_t i, char end) {
        std::size_t n = i - pos_;
        const char* s = buf_.get() + pos_;
        if (end != ',' && end != ';' && n > 0 && s[n - 1] == '\r') --n;
        pos_ = end ? i + 1 : i;
        if (end == '\n') ++line_;
        return token{std::string_view(s, n), end};
    }

    // "..." with "" for a quote inside; no line break inside the quotes.
    token quoted() {
        for (;;) {
            scratch_.clear();
            const char* b = buf_.get();
            std::size_t i = pos_ + 1;
            for (; i < len_; ++i) {
                const char c = b[i];
                if (c == '\n') file_->fail(line_, "line break inside a quoted field");
                if (c != '"') {
                    scratch_ += c;
                    continue;
                }
                if (i + 1 >= len_ && !eof_) break;  // the byte after the quote is not loaded yet
                if (i + 1 < len_ && b[i + 1] == '"') {
                    scratch_ += '"';
                    ++i;
                    continue;
                }
                std::size_t j = i + 1;  // after the closing quote: ',', '\n', "\r\n" or the end
                if (j < len_ && b[j] == '\r') {
                    if (j + 1 >= len_ && !eof_) break;
                    if (j + 1 >= len_ || b[j + 1] == '\n') ++j;
                }
                char end = 0;
                if (j < len_) {
                    end = b[j];
                    if (end != ',' && end != '\n') file_->fail(line_, "characters after the closing quote of a field");
                    ++j;
                }
                pos_ = j;
                if (end == '\n') ++line_;
                return token{std::string_view(scratch_), end};
            }
            const bool was_eof = eof_;
            if (refill(pos_) == 0) {
                if (!eof_) too_long();
                if (was_eof) file_->fail(line_, "unterminated quoted field");
                // else: the file ends here, which the next pass can now tell
            }
        }
    }

    const text_file* file_ = nullptr;
    std::unique_ptr<char[]> buf_;
    std::uint64_t base_ = 0;  // file offset of buf_[0]
    std::size_t pos_ = 0;
    std::size_t len_ = 0;
    bool eof_ = false;        // the buffer ends where the file ends
    std::uint64_t line_ = 1;
    std::string scratch_;     // the unquoted text of the last quoted field
};

// ---- numbers ----------------------------------------------------------------------------------

// Digits only: no sign, no blanks, no '+'.
[[nodiscard]] inline bool parse_uint(std::string_view s, std::uint64_t& v) noexcept {
    if (s.empty() || s.front() < '0' || s.front() > '9') return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

// An optional '-' then digits.
[[nodiscard]] inline bool parse_int(std::string_view s, std::int64_t& v) noexcept {
    if (s.empty()) return false;
    const std::size_t d = s.front() == '-' ? 1 : 0;
    if (s.size() == d || s[d] < '0' || s[d] > '9') return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

// A decimal number of seconds (as Python writes floats: "12", "0.25", "1e-06", "1.5E+3") to
// integer nanoseconds, exactly up to 19 significant digits, rounded half away from zero below 1 ns.
// False for anything else (blanks, "nan", "inf", hex) and beyond the int64 range.
[[nodiscard]] inline bool parse_seconds_ns(std::string_view s, std::int64_t& ns) noexcept {
    std::size_t i = 0;
    const std::size_t n = s.size();
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    std::uint64_t mant = 0;   // first 19 significant digits
    int sig = 0;              // significant digits taken
    int exp10 = 0;            // value = mant * 10^exp10
    bool any = false, round_up = false, seen_dropped = false;
    auto digit = [&](int d, bool fraction) {
        any = true;
        if (sig == 0 && d == 0) {
            if (fraction) --exp10;
            return;
        }
        if (sig < 19) {
            mant = mant * 10 + static_cast<std::uint64_t>(d);
            ++sig;
            if (fraction) --exp10;
        } else {
            if (!seen_dropped) round_up = d >= 5;
            seen_dropped = true;
            if (!fraction) ++exp10;
        }
    };
    for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) digit(s[i] - '0', false);
    if (i < n && s[i] == '.') {
        ++i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i) digit(s[i] - '0', true);
    }
    if (!any) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        bool eneg = false;
        if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i >= n) return false;
        int e = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; ++i)
            if (e < 10000) e = e * 10 + (s[i] - '0');
        exp10 += eneg ? -e : e;
    }
    if (i != n) return false;
    if (round_up) ++mant;  // 19 nines + 1 still fits in 64 bits
    // nanoseconds = mant * 10^(exp10 + 9)
    const int p = exp10 + 9;
    constexpr auto max = static_cast<std::uint64_t>(INT64_MAX);
    std::uint64_t v = mant;
    if (mant == 0) {
        v = 0;
    } else if (p >= 0) {
        for (int k = 0; k < p; ++k) {
            if (v > max / 10) return false;
            v *= 10;
        }
    } else if (p < -19) {
        v = 0;  // below 0.1 ns
    } else {
        std::uint64_t div = 1;
        for (int k = 0; k < -p; ++k) div *= 10;
        const std::uint64_t r = v % div;
        v = v / div + (r >= div - r ? 1 : 0);
    }
    if (v > max) return false;
    ns = neg ? -static_cast<std::int64_t>(v) : static_cast<std::int64_t>(v);
    return true;
}

}  // namespace flowpic::source::detail
