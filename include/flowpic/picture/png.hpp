#pragma once
// PNG images of pictures, to look at a FlowPic the way the paper shows one: x = time (left to
// right), y = packet size (bottom to top), white = no packet, black = the busiest cell, and the
// grey level in between log-scaled: grey = 255 * (1 - log1p(v) / log1p(max)). Pictures stored
// with time in rows (A.3) are transposed so that they look the same.
//
// The encoder is self-contained (8-bit greyscale, zlib stream with fixed-Huffman deflate blocks
// and run-length matches), so writing a PNG needs no image or compression library.

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/picture/dense_picture.hpp"

namespace flowpic::picture {

// An 8-bit grey image, rows top to bottom.
struct grey_image {
    std::size_t width = 0;
    std::size_t height = 0;
    std::vector<std::uint8_t> pixels;  // height * width
};

// Draws one channel of a picture; each cell becomes scale x scale pixels. dot > scale draws every
// non-empty cell as a dot x dot square instead, the darker one winning where squares overlap
// (single cells of a 1500 x 1500 picture are hard to see otherwise; the paper plots markers too).
template <class T>
[[nodiscard]] grey_image render_grey(const dense_picture<T>& p, bool time_in_rows, std::size_t channel = 0,
                                     std::size_t scale = 1, std::size_t dot = 1) {
    scale = std::max<std::size_t>(scale, 1);
    const std::size_t side = std::max(dot, scale);
    const std::size_t times = time_in_rows ? p.height : p.width;
    const std::size_t sizes = time_in_rows ? p.width : p.height;
    auto plane = p.channel(channel);
    double mx = 0;
    for (const T& v : plane) mx = std::max(mx, static_cast<double>(v));
    const double denom = mx > 0 ? std::log1p(mx) : 1.0;
    grey_image img;
    img.width = times * scale;
    img.height = sizes * scale;
    img.pixels.assign(img.width * img.height, 255);
    const auto lo = [&](std::size_t start) {  // first pixel of a square centred on a cell's block
        const std::size_t pad = (side - scale) / 2;
        return start >= pad ? start - pad : 0;
    };
    for (std::size_t s = 0; s < sizes; ++s) {
        const std::size_t y0 = (sizes - 1 - s) * scale;  // larger sizes higher up
        for (std::size_t t = 0; t < times; ++t) {
            const double v = static_cast<double>(time_in_rows ? plane[t * p.width + s] : plane[s * p.width + t]);
            if (!(v > 0)) continue;
            const double g = 255.0 * (1.0 - std::log1p(v) / denom);
            const auto px = static_cast<std::uint8_t>(std::clamp(std::lround(g), 0L, 255L));
            const std::size_t ya = lo(y0), yb = std::min(img.height, ya + side);
            const std::size_t xa = lo(t * scale), xb = std::min(img.width, xa + side);
            for (std::size_t y = ya; y < yb; ++y)
                for (std::size_t x = xa; x < xb; ++x) {
                    auto& q = img.pixels[y * img.width + x];
                    q = std::min(q, px);
                }
        }
    }
    return img;
}

namespace detail {

inline std::uint32_t crc32(const std::uint8_t* d, std::size_t n, std::uint32_t crc = 0) noexcept {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    crc = ~crc;
    for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ d[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

inline std::uint32_t adler32(const std::uint8_t* d, std::size_t n) noexcept {
    std::uint32_t a = 1, b = 0;
    for (std::size_t i = 0; i < n; ++i) {
        a = (a + d[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

// Deflate bit writer (bits go least significant first; Huffman codes most significant first).
class bit_writer {
public:
    explicit bit_writer(std::vector<std::uint8_t>& out) : out_(out) {}
    void bits(std::uint32_t v, unsigned n) {
        for (unsigned i = 0; i < n; ++i) put((v >> i) & 1u);
    }
    void code(std::uint32_t c, unsigned n) {
        for (unsigned i = n; i-- > 0;) put((c >> i) & 1u);
    }
    void flush() {
        if (used_) out_.push_back(cur_);
        cur_ = 0;
        used_ = 0;
    }

private:
    void put(std::uint32_t bit) {
        cur_ = static_cast<std::uint8_t>(cur_ | (bit << used_));
        if (++used_ == 8) flush();
    }
    std::vector<std::uint8_t>& out_;
    std::uint8_t cur_ = 0;
    unsigned used_ = 0;
};

inline void fixed_literal(bit_writer& w, unsigned v) {  // RFC 1951 3.2.6
    if (v <= 143) w.code(0x30 + v, 8);
    else if (v <= 255) w.code(0x190 + (v - 144), 9);
    else if (v <= 279) w.code(v - 256, 7);
    else w.code(0xC0 + (v - 280), 8);
}

inline void fixed_length(bit_writer& w, unsigned len) {  // 3..258, then distance code 0 (= 1)
    static constexpr unsigned base[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                          35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static constexpr unsigned extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                           3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    unsigned i = 28;
    while (base[i] > len) --i;
    fixed_literal(w, 257 + i);
    w.bits(len - base[i], extra[i]);
    w.code(0, 5);
}

// zlib stream of `data`: one final fixed-Huffman block, runs coded as distance-1 matches.
inline std::vector<std::uint8_t> zlib_compress(const std::vector<std::uint8_t>& data) {
    std::vector<std::uint8_t> out{0x78, 0x01};
    bit_writer w(out);
    w.bits(1, 1);  // BFINAL
    w.bits(1, 2);  // BTYPE = fixed Huffman
    std::size_t i = 0;
    const std::size_t n = data.size();
    while (i < n) {
        if (i > 0) {
            std::size_t r = 0;
            while (i + r < n && r < 258 && data[i + r] == data[i - 1]) ++r;
            if (r >= 3) {
                fixed_length(w, static_cast<unsigned>(r));
                i += r;
                continue;
            }
        }
        fixed_literal(w, data[i]);
        ++i;
    }
    fixed_literal(w, 256);  // end of block
    w.flush();
    const std::uint32_t a = adler32(data.data(), n);
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(a >> s));
    return out;
}

inline void put_be32(std::vector<std::uint8_t>& v, std::uint32_t x) {
    for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<std::uint8_t>(x >> s));
}

inline void chunk(std::vector<std::uint8_t>& png, const char* type, const std::vector<std::uint8_t>& data) {
    put_be32(png, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = png.size();
    png.insert(png.end(), type, type + 4);
    png.insert(png.end(), data.begin(), data.end());
    put_be32(png, crc32(png.data() + start, png.size() - start));
}

}  // namespace detail

// The bytes of a PNG file (8-bit greyscale, filter type 0 on every row).
[[nodiscard]] inline std::vector<std::uint8_t> encode_png(const grey_image& img) {
    std::vector<std::uint8_t> raw;
    raw.reserve(img.height * (img.width + 1));
    for (std::size_t y = 0; y < img.height; ++y) {
        raw.push_back(0);
        raw.insert(raw.end(), img.pixels.begin() + static_cast<std::ptrdiff_t>(y * img.width),
                   img.pixels.begin() + static_cast<std::ptrdiff_t>((y + 1) * img.width));
    }
    std::vector<std::uint8_t> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    std::vector<std::uint8_t> ihdr;
    detail::put_be32(ihdr, static_cast<std::uint32_t>(img.width));
    detail::put_be32(ihdr, static_cast<std::uint32_t>(img.height));
    ihdr.insert(ihdr.end(), {8, 0, 0, 0, 0});  // 8-bit, greyscale, deflate, adaptive filters, no interlace
    detail::chunk(png, "IHDR", ihdr);
    detail::chunk(png, "IDAT", detail::zlib_compress(raw));
    detail::chunk(png, "IEND", {});
    return png;
}

inline void write_png(const std::string& path, const grey_image& img) {
    const auto bytes = encode_png(img);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw io_error(location{path}, std::string("cannot open for writing: ") + std::strerror(errno));
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw io_error(location{path}, "write failed");
}

// A picture as a PNG (see render_grey).
template <class T>
void write_png(const std::string& path, const dense_picture<T>& p, bool time_in_rows, std::size_t channel = 0,
               std::size_t scale = 1, std::size_t dot = 1) {
    write_png(path, render_grey(p, time_in_rows, channel, scale, dot));
}

}  // namespace flowpic::picture
