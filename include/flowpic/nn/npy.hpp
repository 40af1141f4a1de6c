#pragma once
// Minimal NumPy .npy reading and writing for the network's tensors: weights (float32) and
// stacks of pictures of any numeric type, read as float. Kept apart from xtensor's xnpy so the
// network headers stay light; errors name the file and the byte offset.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "flowpic/core/error.hpp"

namespace flowpic::nn {

struct npy_tensor {
    std::vector<std::size_t> shape;
    std::vector<float> data;
    std::string dtype;  // as stored, e.g. "<f4", "<u2", "|u1"
    [[nodiscard]] std::size_t count() const {
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

namespace detail {

inline std::string npy_field(const std::string& h, const std::string& key, const std::string& path) {
    const auto k = h.find("'" + key + "'");
    if (k == std::string::npos) throw format_error(location{path, 10}, "the .npy header has no '" + key + "'");
    auto c = h.find(':', k);
    if (c == std::string::npos) throw format_error(location{path, 10}, "malformed .npy header");
    ++c;
    while (c < h.size() && h[c] == ' ') ++c;
    if (c >= h.size()) throw format_error(location{path, 10}, "malformed .npy header");
    std::size_t e = c;
    if (h[c] == '\'') {
        e = h.find('\'', c + 1);
        if (e == std::string::npos) throw format_error(location{path, 10}, "malformed .npy header");
        return h.substr(c + 1, e - c - 1);
    }
    if (h[c] == '(') {
        e = h.find(')', c);
        if (e == std::string::npos) throw format_error(location{path, 10}, "malformed .npy header");
        return h.substr(c, e - c + 1);
    }
    while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
    return h.substr(c, e - c);
}

template <class T>
void npy_convert(const char* src, std::size_t n, float* dst) {
    for (std::size_t i = 0; i < n; ++i) {
        T v;
        std::memcpy(&v, src + i * sizeof(T), sizeof(T));
        dst[i] = static_cast<float>(v);
    }
}

}  // namespace detail

// Reads a C-ordered little-endian .npy of a numeric type into floats.
inline npy_tensor read_npy(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
    f.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(f.tellg());
    f.seekg(0);
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
    npy_tensor t;
    t.dtype = detail::npy_field(h, "descr", path);
    if (detail::npy_field(h, "fortran_order", path).find("True") != std::string::npos)
        throw format_error(location{path, 10}, "Fortran-ordered arrays are not supported");
    const std::string s = detail::npy_field(h, "shape", path);
    std::size_t i = 1;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == ')')) ++i;
        if (i >= s.size()) break;
        std::size_t v = 0, digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (v > (std::size_t{1} << 40)) throw format_error(location{path, 10}, "shape too large");
            v = v * 10 + static_cast<std::size_t>(s[i++] - '0');
            ++digits;
        }
        if (!digits) throw format_error(location{path, 10}, "malformed shape " + s);
        t.shape.push_back(v);
    }
    std::size_t width = 0;
    const std::string& d = t.dtype;
    if (d.size() < 3 || (d[0] != '<' && d[0] != '|' && d[0] != '='))
        throw format_error(location{path, 10}, "unsupported element type " + d + " (little-endian numbers only)");
    width = static_cast<std::size_t>(std::atoi(d.c_str() + 2));
    const std::uint64_t count = t.count(), start = hstart + hlen;
    if (width == 0 || count > (size / width) + 1) throw format_error(location{path, start}, "element count too large");
    if (start + count * width != size)
        throw format_error(location{path, std::min<std::uint64_t>(start + count * width, size)},
                           "the header promises " + std::to_string(count * width) + " data bytes, the file holds " +
                               std::to_string(size - std::min(size, start)));
    std::vector<char> raw(static_cast<std::size_t>(count * width));
    f.read(raw.data(), static_cast<std::streamsize>(raw.size()));
    if (!f) throw format_error(location{path, start}, "read failed");
    t.data.resize(static_cast<std::size_t>(count));
    const std::string k = d.substr(1);
    if (k == "f4") detail::npy_convert<float>(raw.data(), count, t.data.data());
    else if (k == "f8") detail::npy_convert<double>(raw.data(), count, t.data.data());
    else if (k == "u1" || k == "b1") detail::npy_convert<std::uint8_t>(raw.data(), count, t.data.data());
    else if (k == "i1") detail::npy_convert<std::int8_t>(raw.data(), count, t.data.data());
    else if (k == "u2") detail::npy_convert<std::uint16_t>(raw.data(), count, t.data.data());
    else if (k == "i2") detail::npy_convert<std::int16_t>(raw.data(), count, t.data.data());
    else if (k == "u4") detail::npy_convert<std::uint32_t>(raw.data(), count, t.data.data());
    else if (k == "i4") detail::npy_convert<std::int32_t>(raw.data(), count, t.data.data());
    else if (k == "u8") detail::npy_convert<std::uint64_t>(raw.data(), count, t.data.data());
    else if (k == "i8") detail::npy_convert<std::int64_t>(raw.data(), count, t.data.data());
    else throw format_error(location{path, 10}, "unsupported element type " + d);
    return t;
}

// Writes float32 data as a version 1.0 .npy (header padded to 64 bytes, as NumPy does).
inline void write_npy(const std::string& path, const std::vector<std::size_t>& shape, const float* data) {
    std::string dims;
    std::size_t count = 1;
    for (auto v : shape) {
        dims += std::to_string(v) + ",";
        count *= v;
    }
    if (shape.size() > 1) dims.pop_back();
    std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    const std::size_t total = (10 + h.size() + 1 + 63) / 64 * 64;
    h.append(total - 10 - h.size() - 1, ' ');
    h += '\n';
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error(location{path}, std::string("cannot open for writing: ") + std::strerror(errno));
    const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
    f.write(magic, 8);
    const unsigned char len[2] = {static_cast<unsigned char>(h.size() & 0xff), static_cast<unsigned char>(h.size() >> 8)};
    f.write(reinterpret_cast<const char*>(len), 2);
    f.write(h.data(), static_cast<std::streamsize>(h.size()));
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(float)));
    f.flush();
    if (!f) throw io_error(location{path}, "write failed");
}

}  // namespace flowpic::nn
