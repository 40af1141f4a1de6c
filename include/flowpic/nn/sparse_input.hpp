#pragma once
// nn::sparse_batch: a batch of network inputs held as their non-zero cells (float values, cells
// distinct, sorted or not), the form 1500x1500 FlowPics take. The network runs its first convolution
// straight from the cells (nn/executor/sparse.hpp); densify() gives the dense batch the other
// executors read, value for value. A non-zero background (download fractions: 0.5) is kept and
// densified; only an all-zero background takes the sparse kernels.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "flowpic/picture/sparse_picture.hpp"

namespace flowpic::nn {

class sparse_batch {
public:
    sparse_batch() = default;
    sparse_batch(std::size_t channels, std::size_t height, std::size_t width)
        : channels_(channels), height_(height), width_(width), background_(channels, 0.0f) {}

    [[nodiscard]] std::size_t size() const noexcept { return offsets_.size() - 1; }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    [[nodiscard]] std::size_t channels() const noexcept { return channels_; }
    [[nodiscard]] std::size_t height() const noexcept { return height_; }
    [[nodiscard]] std::size_t width() const noexcept { return width_; }
    [[nodiscard]] std::size_t sample_size() const noexcept { return channels_ * height_ * width_; }
    [[nodiscard]] std::size_t nnz() const noexcept { return cells_.size(); }
    [[nodiscard]] std::span<const float> background() const noexcept { return background_; }
    [[nodiscard]] bool zero_background() const noexcept {
        return std::all_of(background_.begin(), background_.end(), [](float v) { return v == 0.0f; });
    }

    // Drops the samples, keeps the geometry (and the capacity).
    void clear() noexcept {
        offsets_.assign(1, 0);
        cells_.clear();
        values_.clear();
    }
    // Drops the samples and sets a new geometry.
    void reset(std::size_t channels, std::size_t height, std::size_t width) {
        clear();
        channels_ = channels;
        height_ = height;
        width_ = width;
        background_.assign(channels, 0.0f);
    }

    // Appends one picture, every value (and the background) multiplied by scale. The first
    // picture of an empty batch sets the geometry and the background; later ones must share them.
    template <class T>
    void push_back(const picture::sparse_view<T>& p, float scale = 1.0f) {
        if (empty()) reset(p.channels, p.height, p.width);
        if (p.channels != channels_ || p.height != height_ || p.width != width_)
            throw std::invalid_argument("nn::sparse_batch: a picture of another geometry");
        for (std::size_t c = 0; c < channels_; ++c) {
            const float bg = static_cast<float>(p.background.empty() ? T(0) : p.background[c]) * scale;
            if (empty()) background_[c] = bg;
            else if (bg != background_[c])
                throw std::invalid_argument("nn::sparse_batch: pictures with different backgrounds");
        }
        cells_.insert(cells_.end(), p.cells.begin(), p.cells.end());
        for (std::size_t i = 0; i < p.values.size(); ++i) values_.push_back(static_cast<float>(p.values[i]) * scale);
        offsets_.push_back(cells_.size());
    }
    template <class T>
    void push_back(const picture::sparse_picture<T>& p, float scale = 1.0f) {
        push_back(p.view(), scale);
    }
    // Appends cells and values (channels per cell) directly, on a zero background.
    void push_back(std::span<const std::uint32_t> cells, std::span<const float> values) {
        if (values.size() != cells.size() * channels_)
            throw std::invalid_argument("nn::sparse_batch: values do not match cells x channels");
        for (auto c : cells)
            if (c >= height_ * width_) throw std::invalid_argument("nn::sparse_batch: a cell outside the picture");
        cells_.insert(cells_.end(), cells.begin(), cells.end());
        values_.insert(values_.end(), values.begin(), values.end());
        offsets_.push_back(cells_.size());
    }

    // Appends every sample of another batch of the same geometry and background.
    void append(const sparse_batch& o) {
        if (o.channels_ != channels_ || o.height_ != height_ || o.width_ != width_)
            throw std::invalid_argument("nn::sparse_batch: a batch of another geometry");
        if (!o.empty() && !empty() && o.background_ != background_)
            throw std::invalid_argument("nn::sparse_batch: pictures with different backgrounds");
        if (empty()) background_ = o.background_;
        for (std::size_t i = 0; i < o.size(); ++i) {
            cells_.insert(cells_.end(), o.cells(i).begin(), o.cells(i).end());
            values_.insert(values_.end(), o.values(i).begin(), o.values(i).end());
            offsets_.push_back(cells_.size());
        }
    }

    // Sample i's cells (flat row * width + column) and values (cell-major, channels per cell).
    [[nodiscard]] std::span<const std::uint32_t> cells(std::size_t i) const noexcept {
        return {cells_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]};
    }
    [[nodiscard]] std::span<const float> values(std::size_t i) const noexcept {
        return {values_.data() + offsets_[i] * channels_, (offsets_[i + 1] - offsets_[i]) * channels_};
    }

    // Samples [first, first + n) as dense floats (channels x height x width each) into out.
    template <class U>
    void densify(U* out, std::size_t first, std::size_t n) const {
        const std::size_t plane = height_ * width_;
        for (std::size_t s = 0; s < n; ++s) {
            U* o = out + s * sample_size();
            for (std::size_t c = 0; c < channels_; ++c) std::fill_n(o + c * plane, plane, U(background_[c]));
            const auto cl = cells(first + s);
            const auto vl = values(first + s);
            for (std::size_t k = 0; k < cl.size(); ++k)
                for (std::size_t c = 0; c < channels_; ++c) o[c * plane + cl[k]] = U(vl[k * channels_ + c]);
        }
    }
    [[nodiscard]] std::vector<float> densify() const {
        std::vector<float> out(size() * sample_size());
        densify(out.data(), 0, size());
        return out;
    }

private:
    std::size_t channels_ = 1, height_ = 0, width_ = 0;
    std::vector<float> background_ = std::vector<float>(1, 0.0f);
    std::vector<std::uint64_t> offsets_{0};
    std::vector<std::uint32_t> cells_;
    std::vector<float> values_;
};

}  // namespace flowpic::nn
