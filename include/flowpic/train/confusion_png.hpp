#pragma once
// The confusion matrix as a PNG (greyscale): row r = true class r, column c = predicted class c,
// both in class order (top to bottom, left to right). Each row is normalised by its number of
// samples; a cell is a square whose grey is 255 x (1 - share) (white 0 %, black 100 %) with the
// share in whole percent written in it (black on light cells, white on dark ones); rows without
// samples stay white and unlabelled. 1-pixel grid lines (grey 160) separate the cells.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "flowpic/picture/png.hpp"
#include "flowpic/train/metrics.hpp"

namespace flowpic::train {

namespace detail {
// 3 x 5 digits, one row of 3 bits per line, most significant bit on the left.
inline constexpr std::uint8_t digit_font[10][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}};
}  // namespace detail

inline picture::grey_image confusion_image(const classification_report& r, std::size_t cell = 48) {
    const std::size_t k = r.classes, side = k * cell + k + 1;
    picture::grey_image img;
    img.width = img.height = side;
    img.pixels.assign(side * side, 160);
    constexpr std::size_t scale = 3;  // font pixels per digit pixel
    for (std::size_t t = 0; t < k; ++t) {
        std::size_t row = 0;
        for (std::size_t p = 0; p < k; ++p) row += r.at(t, p);
        for (std::size_t p = 0; p < k; ++p) {
            const double share = row ? static_cast<double>(r.at(t, p)) / static_cast<double>(row) : 0.0;
            const auto grey = static_cast<std::uint8_t>(std::lround(255.0 * (1.0 - share)));
            const std::size_t y0 = 1 + t * (cell + 1), x0 = 1 + p * (cell + 1);
            for (std::size_t y = 0; y < cell; ++y) std::fill_n(img.pixels.begin() + static_cast<std::ptrdiff_t>((y0 + y) * side + x0), cell, grey);
            if (!row) continue;
            const std::string text = std::to_string(std::lround(share * 100));
            const std::size_t tw = text.size() * 4 * scale - scale, th = 5 * scale;
            if (tw > cell || th > cell) continue;
            const std::uint8_t ink = grey < 128 ? 255 : 0;
            const std::size_t tx = x0 + (cell - tw) / 2, ty = y0 + (cell - th) / 2;
            for (std::size_t d = 0; d < text.size(); ++d) {
                const auto& glyph = detail::digit_font[text[d] - '0'];
                for (std::size_t gy = 0; gy < 5 * scale; ++gy)
                    for (std::size_t gx = 0; gx < 3 * scale; ++gx)
                        if (glyph[gy / scale] & (4 >> (gx / scale))) img.pixels[(ty + gy) * side + tx + d * 4 * scale + gx] = ink;
            }
        }
    }
    return img;
}

inline void write_confusion_png(const std::string& path, const classification_report& r, std::size_t cell = 48) {
    picture::write_png(path, confusion_image(r, cell));
}

}  // namespace flowpic::train
