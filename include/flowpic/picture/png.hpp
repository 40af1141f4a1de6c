#pragma once
// PNG images of pictures, to look at a FlowPic the way the paper shows one: x = time (left to
// right), y = packet size (bottom to top), white = no packet, black = the busiest cell, and the
// grey level in between log-scaled: grey = 255 * (1 - log1p(v) / log1p(max)). Pictures stored
// with time in rows (A.3) are transposed so that they look the same.
//
// Encoded by libpng (Debian's libpng-dev, linked through flowpic::flowpic).

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <png.h>

#include "flowpic/core/atomic_file.hpp"
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
inline void png_append(png_structp png, png_bytep data, png_size_t n) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
    out->insert(out->end(), data, data + n);
}
}  // namespace detail

// The bytes of a PNG file (8-bit greyscale) from libpng, at zlib's best compression with libpng's
// adaptive row filters.
[[nodiscard]] inline std::vector<std::uint8_t> encode_png(const grey_image& img) {
    if (img.width == 0 || img.height == 0 || img.pixels.size() != img.width * img.height)
        throw std::invalid_argument("encode_png: the image is empty or its pixels do not match its size");
    std::vector<std::uint8_t> out;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    // libpng reports errors by longjmp (C code cannot carry exceptions): only trivial objects
    // live between here and its calls, and the error becomes an exception once back here
    if (!info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        throw std::runtime_error("libpng: cannot encode a " + std::to_string(img.width) + " x " +
                                 std::to_string(img.height) + " image");
    }
    png_set_write_fn(png, &out, detail::png_append, nullptr);
    png_set_compression_level(png, 9);
    png_set_IHDR(png, info, static_cast<png_uint_32>(img.width), static_cast<png_uint_32>(img.height), 8,
                 PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (std::size_t y = 0; y < img.height; ++y) png_write_row(png, img.pixels.data() + y * img.width);
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return out;
}

inline void write_png(const std::string& path, const grey_image& img) {
    write_file_atomically(path, std::span<const std::uint8_t>(encode_png(img)));
}

// A picture as a PNG (see render_grey).
template <class T>
void write_png(const std::string& path, const dense_picture<T>& p, bool time_in_rows, std::size_t channel = 0,
               std::size_t scale = 1, std::size_t dot = 1) {
    write_png(path, render_grey(p, time_in_rows, channel, scale, dot));
}

}  // namespace flowpic::picture
