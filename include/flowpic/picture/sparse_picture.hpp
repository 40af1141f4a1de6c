#pragma once
// A sparse picture: the cells that received packets, sorted by their flat index in the dense
// row-major layout, with one value per channel; every other cell holds its channel's background
// (0, or 0.5 for the download fraction). A 60 s block fills a few thousand of 2.25 M cells, so a
// sparse 1500x1500 picture costs about 6 bytes per non-zero cell instead of 4.5 MB.
// Densifying gives exactly the dense picture of the same block (tests check it for every backend).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flowpic/picture/dense_picture.hpp"

namespace flowpic::picture {

// A non-owning view of one sparse picture (also of one picture inside a sparse_stack).
template <class T>
struct sparse_view {
    std::size_t channels = 1;
    std::size_t height = 0;
    std::size_t width = 0;
    std::span<const std::uint32_t> cells;  // sorted flat indices row * width + column
    std::span<const T> values;             // cells.size() * channels, cell-major
    std::span<const T> background;         // one per channel

    [[nodiscard]] std::size_t nnz() const noexcept { return cells.size(); }
    [[nodiscard]] std::uint32_t row(std::size_t i) const noexcept { return cells[i] / static_cast<std::uint32_t>(width); }
    [[nodiscard]] std::uint32_t col(std::size_t i) const noexcept { return cells[i] % static_cast<std::uint32_t>(width); }
    [[nodiscard]] T value(std::size_t i, std::size_t channel = 0) const noexcept { return values[i * channels + channel]; }

    // Writes the dense picture into `out` (resized and fully overwritten).
    void densify(dense_picture<T>& out) const {
        out.channels = channels;
        out.height = height;
        out.width = width;
        const std::size_t plane = height * width;
        out.data.resize(channels * plane);
        for (std::size_t c = 0; c < channels; ++c)
            std::fill_n(out.data.begin() + static_cast<std::ptrdiff_t>(c * plane), plane, background[c]);
        scatter(out.data.data());
    }
    [[nodiscard]] dense_picture<T> densify() const {
        dense_picture<T> d;
        densify(d);
        return d;
    }
    // Writes the listed cells into a dense buffer that already holds the background.
    void scatter(T* dense) const noexcept {
        const std::size_t plane = height * width;
        for (std::size_t i = 0; i < cells.size(); ++i)
            for (std::size_t c = 0; c < channels; ++c) dense[c * plane + cells[i]] = values[i * channels + c];
    }
    // Puts the background back into the listed cells.
    void unscatter(T* dense) const noexcept {
        const std::size_t plane = height * width;
        for (std::size_t i = 0; i < cells.size(); ++i)
            for (std::size_t c = 0; c < channels; ++c) dense[c * plane + cells[i]] = background[c];
    }
};

template <class T>
struct sparse_picture {
    using value_type = T;
    std::size_t channels = 1;
    std::size_t height = 0;
    std::size_t width = 0;
    std::vector<std::uint32_t> cells;
    std::vector<T> values;
    std::vector<T> background;

    [[nodiscard]] std::size_t nnz() const noexcept { return cells.size(); }
    [[nodiscard]] sparse_view<T> view() const noexcept {
        return {channels, height, width, cells, values, background};
    }
    [[nodiscard]] dense_picture<T> densify() const { return view().densify(); }
    void densify(dense_picture<T>& out) const { view().densify(out); }
    // Bytes held by the cells and values (not counting spare capacity).
    [[nodiscard]] std::size_t bytes() const noexcept {
        return cells.size() * sizeof(std::uint32_t) + values.size() * sizeof(T);
    }

    friend bool operator==(const sparse_picture&, const sparse_picture&) = default;
};

}  // namespace flowpic::picture
