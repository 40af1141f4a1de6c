#pragma once
// NumPy .npy files: C-ordered little-endian arrays of numbers, read and written with the header
// numpy.save writes ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", padded to
// a multiple of 64 bytes). Errors: io_error when a file cannot be opened or written;
// format_error, with the file name and the byte offset, when a file read is not such an array.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

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

inline std::string field(const std::string& h, const std::string& key, const std::string& path, std::uint64_t at) {
    const auto k = h.find("'" + key + "'");
    if (k == std::string::npos) throw format_error(location{path, at}, "the .npy header has no '" + key + "'");
    auto c = h.find(':', k);
    if (c == std::string::npos) throw format_error(location{path, at}, "malformed .npy header");
    ++c;
    while (c < h.size() && h[c] == ' ') ++c;
    if (c >= h.size()) throw format_error(location{path, at}, "malformed .npy header");
    std::size_t e = c;
    if (h[c] == '\'') {
        e = h.find('\'', c + 1);
        if (e == std::string::npos) throw format_error(location{path, at}, "malformed .npy header");
        return h.substr(c + 1, e - c - 1);
    }
    if (h[c] == '(') {
        e = h.find(')', c);
        if (e == std::string::npos) throw format_error(location{path, at}, "malformed .npy header");
        return h.substr(c, e - c + 1);
    }
    while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
    return h.substr(c, e - c);
}

template <class From, class To>
void convert(const char* src, std::size_t n, To* dst) {
    for (std::size_t i = 0; i < n; ++i) {
        From v;
        std::memcpy(&v, src + i * sizeof(From), sizeof(From));
        dst[i] = static_cast<To>(v);
    }
}

inline std::ifstream open(const std::string& path, std::uint64_t& size) {
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
    out.descr = detail::field(h, "descr", path, hstart);
    if (detail::field(h, "fortran_order", path, hstart).find("True") != std::string::npos)
        throw format_error(location{path, hstart}, "Fortran-ordered arrays are not supported");
    const std::string s = detail::field(h, "shape", path, hstart);
    std::size_t i = 1;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == ')')) ++i;
        if (i >= s.size()) break;
        std::size_t v = 0, digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (v > (std::size_t{1} << 40)) throw format_error(location{path, hstart}, "shape too large");
            v = v * 10 + static_cast<std::size_t>(s[i++] - '0');
            ++digits;
        }
        if (!digits) throw format_error(location{path, hstart}, "malformed shape " + s);
        out.shape.push_back(v);
    }
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
template <element T>
class writer {
public:
    writer(const std::string& path, const std::vector<std::size_t>& shape)
        : path_(path), f_(path, std::ios::binary | std::ios::trunc) {
        if (!f_) throw io_error(location{path}, std::string("cannot open for writing: ") + std::strerror(errno));
        const std::string h = encode_header(descr<T>(), shape);
        f_.write(h.data(), static_cast<std::streamsize>(h.size()));
    }
    void write(const T* values, std::size_t n) {
        f_.write(reinterpret_cast<const char*>(values), static_cast<std::streamsize>(n * sizeof(T)));
    }
    // Flushes; io_error when anything failed.
    void close() {
        f_.flush();
        if (!f_) throw io_error(location{path_}, "write failed");
        f_.close();
    }

private:
    std::string path_;
    std::ofstream f_;
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
