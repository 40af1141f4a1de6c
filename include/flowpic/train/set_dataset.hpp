#pragma once
// A picture set as a trainer's dataset (train/dataset.hpp): the samples of one split, each
// written as the network's float input, either from its stored sparse picture (as the preset
// made it: raw counts for shapira2019, counts clipped to 255 and divided by 255 for mini-FlowPic,
// divided by the maximum for network_stats; nothing is scaled again here) or, with packet
// augmentations, from its packets, augmented and made into a picture per draw.
//
//   train::set_dataset train_set(set, set.indices(train::split::train));
//   train_set.augment(train::parse_augmentations("change_rtt,time_shift"));

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <oneapi/tbb/enumerable_thread_specific.h>

#include "flowpic/nn/sparse_input.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/train/augment.hpp"
#include "flowpic/train/picture_set.hpp"

namespace flowpic::train {

// A preset's picture maker behind a virtual call, for code that learns the preset at run time.
class painter {
public:
    virtual ~painter() = default;
    // The block's dense picture as floats (channels x height x width).
    virtual void dense(const blocks::block& b, float* out) = 0;
    // The block's picture appended to a sparse batch.
    virtual void sparse(const blocks::block& b, nn::sparse_batch& out) = 0;
};

namespace detail {
template <class H>
class painter_impl final : public painter {
public:
    void dense(const blocks::block& b, float* out) override {
        const auto& pic = m_.dense(b);
        std::transform(pic.data.begin(), pic.data.end(), out, [](auto v) { return static_cast<float>(v); });
    }
    void sparse(const blocks::block& b, nn::sparse_batch& out) override {
        m_.sparse(b, sp_);
        out.push_back(sp_);
    }

private:
    picture::maker<H> m_;
    picture::sparse_picture<typename picture::maker<H>::value_type> sp_;
};
}  // namespace detail

// std::invalid_argument for presets not in Presets.
template <class Presets = presets::builtin>
std::unique_ptr<painter> make_painter(const std::string& preset) {
    return presets::visit<Presets>(preset, [](auto p) -> std::unique_ptr<painter> {
        return std::make_unique<detail::painter_impl<typename decltype(p)::picture>>();
    });
}

// "change_rtt,time_shift,packet_loss" (any subset, in the order applied; "" or "none": none).
inline std::vector<augment::any_augmentation> parse_augmentations(const std::string& list) {
    std::vector<augment::any_augmentation> out;
    if (list.empty() || list == "none") return out;
    std::size_t pos = 0;
    while (pos <= list.size()) {
        const std::size_t end = std::min(list.find(',', pos), list.size());
        const std::string name = list.substr(pos, end - pos);
        if (name == "change_rtt") out.emplace_back(augment::change_rtt{});
        else if (name == "time_shift") out.emplace_back(augment::time_shift{});
        else if (name == "packet_loss") out.emplace_back(augment::packet_loss{});
        else throw std::invalid_argument("--augment: unknown augmentation '" + name + "' (known: change_rtt, time_shift, packet_loss)");
        pos = end + 1;
    }
    return out;
}

// Samples of a picture set listed by index, labels optionally renumbered (label_map[label]).
class set_dataset {
    struct worker;

public:
    set_dataset(const picture_set& set, std::vector<std::size_t> index, std::vector<std::int32_t> label_map = {})
        : set_(&set), index_(std::move(index)), map_(std::move(label_map)) {
        for (auto i : index_)
            if (i >= set.size()) throw std::out_of_range("set_dataset: index past the picture set");
        for (auto i : index_)
            if (!map_.empty() && set.samples[i].label >= map_.size())
                throw std::out_of_range("set_dataset: a label the label map does not cover");
    }

    // Make pictures from the packets, augmented per draw, instead of using the stored ones; the
    // set's preset is looked up in Presets.
    template <class Presets = presets::builtin>
    void augment(std::vector<augment::any_augmentation> augs) {
        augs_ = std::move(augs);
        if (!augs_.empty() && !workers_) workers_ = std::make_unique<workers>(set_->preset, &make_painter<Presets>);
    }

    [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }
    [[nodiscard]] std::size_t sample_size() const noexcept {
        return set_->pictures.channels() * set_->pictures.height() * set_->pictures.width();
    }
    [[nodiscard]] std::int32_t label(std::size_t i) const {
        const auto l = set_->samples[index_[i]].label;
        return map_.empty() ? static_cast<std::int32_t>(l) : map_[l];
    }
    [[nodiscard]] std::size_t sample(std::size_t i) const { return index_[i]; }

    // Sparse batches: the stored pictures, or the augmented ones painted sparse.
    [[nodiscard]] bool sparse_ready() const noexcept { return true; }
    void fill_sparse(std::size_t i, nn::sparse_batch& out, std::uint64_t draw = 0) const {
        const std::size_t k = index_[i];
        if (augs_.empty()) {
            out.push_back(set_->pictures[k]);
            return;
        }
        auto& w = augmented(k, draw);
        const auto& s = set_->samples[k];
        w.paint->sparse(blocks::block{nullptr, w.block.packets, s.block_start_ns, s.block_end_ns, 0}, out);
    }

    void fill(std::size_t i, float* out, std::uint64_t draw = 0) const {
        const std::size_t k = index_[i];
        if (augs_.empty()) {
            const auto p = set_->pictures[k];
            const std::size_t plane = p.height * p.width;
            for (std::size_t c = 0; c < p.channels; ++c) std::fill_n(out + c * plane, plane, p.background[c]);
            p.scatter(out);
            return;
        }
        auto& w = augmented(k, draw);
        const auto& s = set_->samples[k];
        const blocks::block b{nullptr, w.block.packets, s.block_start_ns, s.block_end_ns, 0};
        w.paint->dense(b, out);
    }

private:
    struct worker {
        std::unique_ptr<painter> paint;
        augment::packet_block block;
    };
    struct workers {
        workers(std::string p, std::unique_ptr<painter> (*m)(const std::string&)) : preset(std::move(p)), make(m) {}
        std::string preset;
        std::unique_ptr<painter> (*make)(const std::string&);
        oneapi::tbb::enumerable_thread_specific<worker> local;
    };
    // This thread's worker holding sample k's packets, augmented for this draw.
    worker& augmented(std::size_t k, std::uint64_t draw) const {
        auto& w = workers_->local.local();
        if (!w.paint) w.paint = workers_->make(workers_->preset);
        const auto& s = set_->samples[k];
        const auto pk = set_->packets_of(k);
        w.block.packets.assign(pk.begin(), pk.end());
        w.block.window_start_ns = s.block_start_ns;
        w.block.window_end_ns = s.block_end_ns;
        augment::apply(augs_, w.block, draw);
        return w;
    }

    const picture_set* set_;
    std::vector<std::size_t> index_;
    std::vector<std::int32_t> map_;
    std::vector<augment::any_augmentation> augs_;
    std::unique_ptr<workers> workers_;
};

// Class weights n / (classes x n_c) (scikit-learn's "balanced"); classes without samples get 0.
inline std::vector<double> balanced_class_weights(const std::vector<std::size_t>& counts) {
    std::size_t n = 0, present = 0;
    for (auto c : counts) {
        n += c;
        present += c > 0;
    }
    std::vector<double> w(counts.size(), 0.0);
    for (std::size_t c = 0; c < counts.size(); ++c)
        if (counts[c]) w[c] = static_cast<double>(n) / (static_cast<double>(present) * static_cast<double>(counts[c]));
    return w;
}

}  // namespace flowpic::train
