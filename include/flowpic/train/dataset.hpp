#pragma once
// Datasets a trainer draws batches from. A dataset says how many samples it has, their labels,
// and writes one sample as the network's float input when asked, so it can keep its pictures in
// whatever form is cheapest: dense floats (small pictures), sparse cells (1500x1500 FlowPics:
// a few thousand cells each instead of 9 MB), or packets that become a picture per draw
// (augmentations). `draw` is a seed unique to (epoch, sample): datasets with random
// augmentations use it, the others ignore it.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "flowpic/nn/sparse_input.hpp"
#include "flowpic/picture/sparse_stack.hpp"

namespace flowpic::train {

template <class D>
concept dataset = requires(const D& d, std::size_t i, float* out, std::uint64_t draw) {
    { d.size() } -> std::convertible_to<std::size_t>;
    { d.sample_size() } -> std::convertible_to<std::size_t>;
    { d.label(i) } -> std::convertible_to<std::int32_t>;
    d.fill(i, out, draw);
};

// A dataset that can also append a sample to a sparse batch (nn/sparse_input.hpp), the input the
// sparse kernels read; sparse_ready() says whether it can now (an augmented set paints dense).
template <class D>
concept sparse_samples = dataset<D> && requires(const D& d, std::size_t i, nn::sparse_batch& b, std::uint64_t draw) {
    { d.sparse_ready() } -> std::convertible_to<bool>;
    d.fill_sparse(i, b, draw);
};

// Samples held as floats, one after the other.
class dense_dataset {
public:
    dense_dataset(std::size_t sample_size, std::vector<float> samples, std::vector<std::int32_t> labels)
        : size_(sample_size), samples_(std::move(samples)), labels_(std::move(labels)) {
        if (size_ == 0 || samples_.size() != labels_.size() * size_)
            throw std::invalid_argument("dense_dataset: samples and labels do not match");
    }
    [[nodiscard]] std::size_t size() const noexcept { return labels_.size(); }
    [[nodiscard]] std::size_t sample_size() const noexcept { return size_; }
    [[nodiscard]] std::int32_t label(std::size_t i) const { return labels_[i]; }
    void fill(std::size_t i, float* out, std::uint64_t = 0) const {
        std::copy_n(samples_.data() + i * size_, size_, out);
    }

private:
    std::size_t size_;
    std::vector<float> samples_;
    std::vector<std::int32_t> labels_;
};

// Pictures held sparse (the picture stage's sparse_stack) and densified per batch, each value
// multiplied by `scale` (1 for raw counts as the original FlowPic feeds them).
template <class T>
class sparse_dataset {
public:
    sparse_dataset(picture::sparse_stack<T> pictures, std::vector<std::int32_t> labels, float scale = 1.0f)
        : pictures_(std::move(pictures)), labels_(std::move(labels)), scale_(scale) {
        if (pictures_.size() != labels_.size()) throw std::invalid_argument("sparse_dataset: pictures and labels differ in count");
    }
    [[nodiscard]] std::size_t size() const noexcept { return labels_.size(); }
    [[nodiscard]] std::size_t sample_size() const noexcept {
        return pictures_.channels() * pictures_.height() * pictures_.width();
    }
    [[nodiscard]] std::int32_t label(std::size_t i) const { return labels_[i]; }
    [[nodiscard]] const picture::sparse_stack<T>& pictures() const noexcept { return pictures_; }
    void fill(std::size_t i, float* out, std::uint64_t = 0) const {
        const auto p = pictures_[i];
        const std::size_t plane = p.height * p.width;
        for (std::size_t c = 0; c < p.channels; ++c)
            std::fill_n(out + c * plane, plane, static_cast<float>(p.background[c]) * scale_);
        for (std::size_t k = 0; k < p.cells.size(); ++k)
            for (std::size_t c = 0; c < p.channels; ++c)
                out[c * plane + p.cells[k]] = static_cast<float>(p.values[k * p.channels + c]) * scale_;
    }
    [[nodiscard]] bool sparse_ready() const noexcept { return true; }
    void fill_sparse(std::size_t i, nn::sparse_batch& b, std::uint64_t = 0) const { b.push_back(pictures_[i], scale_); }

private:
    picture::sparse_stack<T> pictures_;
    std::vector<std::int32_t> labels_;
    float scale_;
};

// The samples of another dataset listed by index: train / validation / test splits without copies.
template <dataset D>
class subset {
public:
    subset(const D& base, std::vector<std::size_t> index) : base_(&base), index_(std::move(index)) {
        for (auto i : index_)
            if (i >= base.size()) throw std::out_of_range("subset: index past the dataset");
    }
    [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }
    [[nodiscard]] std::size_t sample_size() const { return base_->sample_size(); }
    [[nodiscard]] std::int32_t label(std::size_t i) const { return base_->label(index_[i]); }
    void fill(std::size_t i, float* out, std::uint64_t draw) const { base_->fill(index_[i], out, draw); }
    [[nodiscard]] bool sparse_ready() const
        requires sparse_samples<D>
    {
        return base_->sparse_ready();
    }
    void fill_sparse(std::size_t i, nn::sparse_batch& b, std::uint64_t draw) const
        requires sparse_samples<D>
    {
        base_->fill_sparse(index_[i], b, draw);
    }

private:
    const D* base_;
    std::vector<std::size_t> index_;
};

}  // namespace flowpic::train
