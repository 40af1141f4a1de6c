#pragma once
// NumPy .npy files: C-ordered little-endian arrays of numbers, read and written with the header
// numpy.save writes ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", padded to
// a multiple of 64 bytes); a header numpy would not write or read back, and a value that is NaN or
// infinite, are refused. Errors: io_error when a file cannot be opened or written;
// format_error, with the file name and the byte offset, when a file read is not such an array.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <sys/stat.h>

#include "flowpic/core/atomic_file.hpp"
#include "flowpic/core/error.hpp"

namespace flowpic::npy {

template <class T>
concept element = std::is_arithmetic_v<T>;

// NumPy's type string of T, e.g. "<f4", "<u2", "|u1", "|b1".
template <element T>
[[nodiscard]] std::string descr() {
    const char kind = std::is_same_v<T, bool> ? 'b' : std::is_floating_point_v<T> ? 'f' : std::is_signed_v<T> ? 'i' : 'u';
    return std::string(1, sizeof(T) == 1 ? '|' : '<') + kind + std::to_string(sizeof(T));
}

struct header {
    std::string descr;               // as stored, e.g. "<f4"
    std::vector<std::size_t> shape;
    std::uint64_t data_offset = 0;   // where the values start
    std::uint64_t header_offset = 0; // where the header text starts (header errors point there)
};

// An array read from a file; dtype is the type string it was stored with.
template <element T>
struct array {
    std::vector<std::size_t> shape;
    std::vector<T> data;
    std::string dtype;
    [[nodiscard]] std::size_t count() const {
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

// The bytes before the values: magic, version, header length and the padded header, as numpy
// writes them (version 2.0 only for headers that version 1.0 cannot hold).
[[nodiscard]] inline std::string encode_header(std::string_view type, std::span<const std::size_t> shape) {
    std::string dims;
    for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) dims += ',';
    std::string h = "{'descr': '" + std::string(type) + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    const bool v2 = 10 + h.size() + 1 >= 255 * 255;  // as xtensor and older numpy decide
    const std::size_t prefix = v2 ? 12 : 10;
    h.append(64 - (prefix + h.size() + 1) % 64, ' ');
    h += '\n';
    std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(v2 ? 2 : 1) + '\0';
    for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((h.size() >> (8 * i)) & 0xff);
    return out + h;
}

namespace detail {

// The header dict exactly as numpy writes it and reads it back (ast.literal_eval of a dict with
// the keys descr, fortran_order and shape, each once): a string, True or False, a tuple of
// non-negative integers; then only spaces and the closing newline. Anything else is refused.
class dict_parser {
public:
    dict_parser(const std::string& h, const std::string& path, std::uint64_t at) : h_(h), path_(path), at_(at) {}

    void parse(header& out, bool& fortran) {
        bool seen[3] = {false, false, false};
        skip();
        expect('{');
        for (;;) {
            skip();
            if (peek() == '}') break;
            const std::string key = quoted();
            skip();
            expect(':');
            skip();
            int k = key == "descr" ? 0 : key == "fortran_order" ? 1 : key == "shape" ? 2 : -1;
            if (k < 0) fail("unexpected key '" + key + "' in the .npy header");
            if (seen[k]) fail("key '" + key + "' twice in the .npy header");
            seen[k] = true;
            if (k == 0) out.descr = quoted();
            else if (k == 1) fortran = boolean();
            else out.shape = tuple();
            skip();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip();
            if (peek() != '}') fail("malformed .npy header: ',' or '}' expected");
        }
        expect('}');
        while (pos_ < h_.size() && (h_[pos_] == ' ' || h_[pos_] == '\n')) ++pos_;
        if (pos_ != h_.size()) fail("malformed .npy header: bytes after the dict");
        for (int k = 0; k < 3; ++k)
            if (!seen[k])
                fail(std::string("the .npy header has no '") + (k == 0 ? "descr" : k == 1 ? "fortran_order" : "shape") + "'");
    }

private:
    [[noreturn]] void fail(const std::string& why) const { throw format_error(location{path_, at_ + pos_}, why); }
    [[nodiscard]] char peek() const { return pos_ < h_.size() ? h_[pos_] : '\0'; }
    void skip() {
        while (pos_ < h_.size() && h_[pos_] == ' ') ++pos_;
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("malformed .npy header: '") + c + "' expected");
        ++pos_;
    }
    std::string quoted() {
        const char q = peek();
        if (q != '\'' && q != '"') fail("malformed .npy header: a quoted string expected");
        const auto e = h_.find(q, pos_ + 1);
        if (e == std::string::npos) fail("malformed .npy header: unterminated string");
        std::string v = h_.substr(pos_ + 1, e - pos_ - 1);
        if (v.find('\\') != std::string::npos || v.find('\n') != std::string::npos)
            fail("malformed .npy header: escapes in a string");
        pos_ = e + 1;
        return v;
    }
    bool boolean() {
        if (h_.compare(pos_, 4, "True") == 0) {
            pos_ += 4;
            return true;
        }
        if (h_.compare(pos_, 5, "False") == 0) {
            pos_ += 5;
            return false;
        }
        fail("malformed .npy header: 'fortran_order' is True or False");
    }
    std::vector<std::size_t> tuple() {
        std::vector<std::size_t> dims;
        expect('(');
        skip();
        bool comma = false;  // (3) is an int in Python, not a tuple: one dimension needs its comma
        while (peek() != ')') {
            std::size_t v = 0, digits = 0;
            while (peek() >= '0' && peek() <= '9') {
                if (v > (std::size_t{1} << 40)) fail("shape too large");
                v = v * 10 + static_cast<std::size_t>(h_[pos_++] - '0');
                ++digits;
            }
            if (!digits) fail("malformed .npy header: a dimension expected in 'shape'");
            dims.push_back(v);
            skip();
            comma = peek() == ',';
            if (comma) {
                ++pos_;
                skip();
            } else if (peek() != ')') {
                fail("malformed .npy header: ',' or ')' expected in 'shape'");
            }
        }
        if (dims.size() == 1 && !comma) fail("malformed .npy header: 'shape' is not a tuple");
        ++pos_;
        return dims;
    }

    const std::string& h_;
    const std::string& path_;
    std::uint64_t at_;
    std::size_t pos_ = 0;
};

template <class From, class To>
void convert(const char* src, std::size_t n, To* dst) {
    for (std::size_t i = 0; i < n; ++i) {
        From v;
        std::memcpy(&v, src + i * sizeof(From), sizeof(From));
        dst[i] = static_cast<To>(v);
    }
}

inline std::ifstream open(const std::string& path, std::uint64_t& size) {
    // the header's sizes are checked against the file's, which a pipe or device does not have
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw io_error(location{path}, S_ISDIR(st.st_mode) ? "is a directory, not an .npy file"
                                                           : "not a regular file (an .npy is read from a file)");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
    f.seekg(0, std::ios::end);
    size = static_cast<std::uint64_t>(f.tellg());
    f.seekg(0);
    return f;
}

inline std::size_t element_width(const header& h, const std::string& path) {
    const std::string& d = h.descr;
    if (d.size() < 3 || (d[0] != '<' && d[0] != '|' && d[0] != '='))
        throw format_error(location{path, h.header_offset},
                           "unsupported element type " + d + " (little-endian numbers only)");
    std::size_t width = 0;
    for (std::size_t i = 2; i < d.size() && d[i] >= '0' && d[i] <= '9' && width < 1024; ++i)
        width = width * 10 + static_cast<std::size_t>(d[i] - '0');
    return width;
}

// The number of values, checked against the bytes the file holds after its header.
inline std::uint64_t checked_count(const header& h, std::size_t width, std::uint64_t size, const std::string& path) {
    std::uint64_t count = 1;
    for (auto d : h.shape) count *= d;  // each dimension is below 2^40: checked by the count below
    const std::uint64_t start = h.data_offset;
    if (width == 0 || count > (size / width) + 1) throw format_error(location{path, start}, "element count too large");
    if (start + count * width != size)
        throw format_error(location{path, std::min<std::uint64_t>(start + count * width, size)},
                           "the header promises " + std::to_string(count * width) + " data bytes, the file holds " +
                               std::to_string(size - std::min(size, start)));
    return count;
}

}  // namespace detail

// Reads magic and header from f (at its start; size: the file's bytes), leaving f at the values.
inline header read_header(std::istream& f, std::uint64_t size, const std::string& path) {
    char head[12] = {};
    f.read(head, 10);
    if (!f || std::memcmp(head, "\x93NUMPY", 6) != 0) throw format_error(location{path, 0}, "not an .npy file (bad magic)");
    const int major = static_cast<unsigned char>(head[6]);
    std::uint64_t hlen = 0, hstart = 10;
    if (major == 1) {
        hlen = static_cast<unsigned char>(head[8]) | static_cast<std::uint64_t>(static_cast<unsigned char>(head[9])) << 8;
    } else if (major == 2 || major == 3) {
        f.read(head + 10, 2);
        if (!f) throw format_error(location{path, 10}, "truncated .npy header");
        for (int i = 0; i < 4; ++i) hlen |= static_cast<std::uint64_t>(static_cast<unsigned char>(head[8 + i])) << (8 * i);
        hstart = 12;
    } else {
        throw format_error(location{path, 6}, "unsupported .npy version " + std::to_string(major));
    }
    if (hstart + hlen > size) throw format_error(location{path, hstart}, "truncated .npy header");
    std::string h(static_cast<std::size_t>(hlen), '\0');
    f.read(h.data(), static_cast<std::streamsize>(hlen));
    if (!f) throw format_error(location{path, hstart}, "truncated .npy header");
    header out;
    out.header_offset = hstart;
    out.data_offset = hstart + hlen;
    bool fortran = false;
    detail::dict_parser(h, path, hstart).parse(out, fortran);
    if (fortran) throw format_error(location{path, hstart}, "Fortran-ordered arrays are not supported");
    return out;
}

namespace detail {

// The array of a file, each value converted to T; `required`: the only type string accepted.
template <element T>
array<T> load(const std::string& path, const std::string* required) {
    std::uint64_t size = 0;
    auto f = open(path, size);
    const header h = read_header(f, size, path);
    if (required && h.descr != *required)
        throw format_error(location{path, h.header_offset}, "element type " + h.descr + ", expected " + *required);
    const std::size_t width = element_width(h, path);
    const std::uint64_t count = checked_count(h, width, size, path);
    std::vector<char> raw(static_cast<std::size_t>(count * width));
    f.read(raw.data(), static_cast<std::streamsize>(raw.size()));
    if (!f) throw format_error(location{path, h.data_offset}, "read failed");
    array<T> a;
    a.shape = h.shape;
    a.dtype = h.descr;
    a.data.resize(static_cast<std::size_t>(count));
    const std::string k = h.descr.substr(1);
    const char* s = raw.data();
    T* d = a.data.data();
    if (k == "f4") convert<float>(s, count, d);
    else if (k == "f8") convert<double>(s, count, d);
    else if (k == "u1" || k == "b1") convert<std::uint8_t>(s, count, d);
    else if (k == "i1") convert<std::int8_t>(s, count, d);
    else if (k == "u2") convert<std::uint16_t>(s, count, d);
    else if (k == "i2") convert<std::int16_t>(s, count, d);
    else if (k == "u4") convert<std::uint32_t>(s, count, d);
    else if (k == "i4") convert<std::int32_t>(s, count, d);
    else if (k == "u8") convert<std::uint64_t>(s, count, d);
    else if (k == "i8") convert<std::int64_t>(s, count, d);
    else throw format_error(location{path, h.header_offset}, "unsupported element type " + h.descr);
    // pictures and weights: a NaN or infinity (or a double beyond T) would make every output NaN
    for (std::size_t i = 0; i < a.data.size(); ++i) {
        const double v = static_cast<double>(a.data[i]);
        if (!std::isfinite(v))
            throw format_error(location{path, h.data_offset + i * width},
                               "value " + std::to_string(i) + " is not finite (" + (std::isnan(v) ? "nan" : "inf") + ")");
    }
    return a;
}

}  // namespace detail

// An array whose element type is exactly T.
template <element T>
array<T> load(const std::string& path) {
    const std::string type = descr<T>();
    return detail::load<T>(path, &type);
}

// An array of any numeric element type, each value converted to T.
template <element T>
array<T> load_as(const std::string& path) {
    return detail::load<T>(path, nullptr);
}

// Writes an array piece by piece: the header first, then exactly the values its shape holds.
// Atomic (core/atomic_file.hpp): the file appears at close(); a writer destroyed before leaves
// the old file.
template <element T>
class writer {
public:
    writer(const std::string& path, const std::vector<std::size_t>& shape) : f_(path) {
        f_.write(encode_header(descr<T>(), shape));
    }
    void write(const T* values, std::size_t n) { f_.write(values, n * sizeof(T)); }
    // Writes the file; io_error when anything failed.
    void close() { f_.commit(); }

private:
    atomic_file f_;
};

template <element T>
void save(const std::string& path, const std::vector<std::size_t>& shape, const T* values) {
    std::size_t count = 1;
    for (auto d : shape) count *= d;
    writer<T> w(path, shape);
    w.write(values, count);
    w.close();
}

}  // namespace flowpic::npy
