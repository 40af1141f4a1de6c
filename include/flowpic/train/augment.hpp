#pragma once
// Augmentations on packets, before the picture is made (reference.md A.2, Horowicz et al. as
// tcbench implements them), each drawn from a seeded generator:
//   change_rtt   times from the block's start stretched by alpha ~ U[0.5, 1.5]
//   time_shift   every time moved by b ~ U[-1, 1] s (packets leaving the window are the
//                picture policy's business, as in tcbench)
//   packet_loss  every packet within 0.1 s of a random instant t0 of the block dropped
// and a dataset of packet blocks that makes each sample's picture when a batch asks for it, so
// every epoch sees fresh augmented pictures.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

#include <oneapi/tbb/enumerable_thread_specific.h>

#include "flowpic/blocks/block.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/nn/random.hpp"
#include "flowpic/picture/maker.hpp"

namespace flowpic::train::augment {

// One block's packets (sorted by time) with its window; augmentations change them in place.
struct packet_block {
    std::vector<packet> packets;
    std::int64_t window_start_ns = 0;
    std::int64_t window_end_ns = 0;
};

struct change_rtt {
    double lo = 0.5, hi = 1.5;
    void operator()(packet_block& b, nn::rng& r) const {
        const double alpha = r.uniform(lo, hi);
        for (auto& p : b.packets)
            p.time_ns = b.window_start_ns +
                        static_cast<std::int64_t>(std::llround(static_cast<double>(p.time_ns - b.window_start_ns) * alpha));
    }
};

struct time_shift {
    double max_seconds = 1.0;
    void operator()(packet_block& b, nn::rng& r) const {
        const auto shift = static_cast<std::int64_t>(std::llround(r.uniform(-max_seconds, max_seconds) * 1e9));
        for (auto& p : b.packets) p.time_ns += shift;
    }
};

struct packet_loss {
    double half_window_seconds = 0.1;
    void operator()(packet_block& b, nn::rng& r) const {
        if (b.packets.empty()) return;
        const std::int64_t first = b.packets.front().time_ns, last = b.packets.back().time_ns;
        const auto t0 = first + static_cast<std::int64_t>(std::llround(r.uniform() * static_cast<double>(last - first)));
        const auto dt = static_cast<std::int64_t>(std::llround(half_window_seconds * 1e9));
        std::erase_if(b.packets, [&](const packet& p) { return p.time_ns >= t0 - dt && p.time_ns <= t0 + dt; });
    }
};

using any_augmentation = std::variant<change_rtt, time_shift, packet_loss>;

// Applies the augmentations in order, all drawing from one generator seeded by `draw`.
inline void apply(std::span<const any_augmentation> augs, packet_block& b, std::uint64_t draw) {
    nn::rng r(draw);
    for (const auto& a : augs) std::visit([&](const auto& f) { f(b, r); }, a);
}

// Blocks of packets with labels; fill() makes the (augmented) picture with the histogram policy
// H, as float. With no augmentation it gives the plain picture of each block.
template <picture::histogram_policy H>
class packet_dataset {
public:
    packet_dataset(std::vector<packet_block> blocks, std::vector<std::int32_t> labels, std::vector<any_augmentation> augs = {})
        : blocks_(std::move(blocks)), labels_(std::move(labels)), augs_(std::move(augs)) {
        if (blocks_.size() != labels_.size()) throw std::invalid_argument("packet_dataset: blocks and labels differ in count");
    }
    [[nodiscard]] std::size_t size() const noexcept { return labels_.size(); }
    [[nodiscard]] std::size_t sample_size() const noexcept { return H::channel_count * H::height * H::width; }
    [[nodiscard]] std::int32_t label(std::size_t i) const { return labels_[i]; }
    [[nodiscard]] const packet_block& block(std::size_t i) const { return blocks_[i]; }

    void fill(std::size_t i, float* out, std::uint64_t draw) const {
        auto& w = work_.local();
        w.block = blocks_[i];
        if (!augs_.empty()) apply(augs_, w.block, draw);
        const blocks::block b{nullptr, w.block.packets, w.block.window_start_ns, w.block.window_end_ns, i};
        const auto& pic = w.maker.dense(b);
        std::transform(pic.data.begin(), pic.data.end(), out, [](auto v) { return static_cast<float>(v); });
    }

private:
    struct worker {
        picture::maker<H> maker;
        packet_block block;
    };
    std::vector<packet_block> blocks_;
    std::vector<std::int32_t> labels_;
    std::vector<any_augmentation> augs_;
    mutable oneapi::tbb::enumerable_thread_specific<worker> work_;
};

}  // namespace flowpic::train::augment
