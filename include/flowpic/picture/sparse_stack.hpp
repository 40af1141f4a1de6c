#pragma once
// Many sparse pictures of one geometry in three arrays (offsets, cells, values), the way a
// dataset of 1500x1500 FlowPics stays in memory: O(non-zero cells), about 6 bytes per non-zero
// cell for uint16 counts plus 8 bytes per picture, where dense uint16 would take 4.5 MB each.

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "flowpic/picture/sparse_picture.hpp"

namespace flowpic::picture {

template <class T>
class sparse_stack {
public:
    using value_type = T;

    sparse_stack() = default;
    sparse_stack(std::size_t channels, std::size_t height, std::size_t width, std::vector<T> background)
        : channels_(channels), height_(height), width_(width), background_(std::move(background)) {}

    [[nodiscard]] std::size_t size() const noexcept { return offsets_.size() - 1; }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    [[nodiscard]] std::size_t nnz() const noexcept { return cells_.size(); }
    [[nodiscard]] std::size_t channels() const noexcept { return channels_; }
    [[nodiscard]] std::size_t height() const noexcept { return height_; }
    [[nodiscard]] std::size_t width() const noexcept { return width_; }
    [[nodiscard]] std::span<const T> background() const noexcept { return background_; }

    // Bytes held by offsets, cells and values (not counting spare capacity).
    [[nodiscard]] std::size_t bytes() const noexcept {
        return offsets_.size() * sizeof(std::uint64_t) + cells_.size() * sizeof(std::uint32_t) + values_.size() * sizeof(T);
    }

    void reserve(std::size_t pictures, std::size_t cells) {
        offsets_.reserve(pictures + 1);
        cells_.reserve(cells);
        values_.reserve(cells * channels_);
    }

    void push_back(const sparse_view<T>& p) {
        if (empty() && cells_.empty() && background_.empty()) {  // a default-constructed stack takes the first geometry
            channels_ = p.channels;
            height_ = p.height;
            width_ = p.width;
            background_.assign(p.background.begin(), p.background.end());
        }
        if (p.channels != channels_ || p.height != height_ || p.width != width_)
            throw std::invalid_argument("flowpic: a sparse_stack holds pictures of one geometry");
        cells_.insert(cells_.end(), p.cells.begin(), p.cells.end());
        values_.insert(values_.end(), p.values.begin(), p.values.end());
        offsets_.push_back(cells_.size());
    }
    void push_back(const sparse_picture<T>& p) { push_back(p.view()); }

    // Appends every picture of another stack of the same geometry.
    void append(const sparse_stack& o) {
        for (std::size_t i = 0; i < o.size(); ++i) push_back(o[i]);
    }

    [[nodiscard]] sparse_view<T> operator[](std::size_t i) const noexcept {
        const std::size_t b = offsets_[i], e = offsets_[i + 1];
        return {channels_, height_, width_, std::span<const std::uint32_t>(cells_.data() + b, e - b),
                std::span<const T>(values_.data() + b * channels_, (e - b) * channels_), background_};
    }

private:
    std::size_t channels_ = 1;
    std::size_t height_ = 0;
    std::size_t width_ = 0;
    std::vector<T> background_;
    std::vector<std::uint64_t> offsets_{0};
    std::vector<std::uint32_t> cells_;
    std::vector<T> values_;
};

}  // namespace flowpic::picture
