#pragma once
// train::picture_set: labelled pictures of one preset, held sparse, with the packets each was
// made from, the capture each came from and the split (train / validation / test) it belongs to.
// What `flowpic dataset` writes (train/dataset_file.hpp) and `flowpic train` / `flowpic eval`
// read. Values are held as float whatever the preset's type: uint16 counts are exact in float.
//
// A capture is one input file, or one lab capture inside a .fpr file, of one class; a labelled
// capture with flows of several classes is one capture per class under the same name. The name
// is the unit of the split (train/split.hpp). Every sample of a capture has its label and split.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/picture/sparse_stack.hpp"

namespace flowpic::train {

enum class split : std::uint8_t { train = 0, validation = 1, test = 2 };

inline constexpr std::array<std::string_view, 3> split_names{"train", "validation", "test"};

[[nodiscard]] constexpr std::string_view name(split s) noexcept { return split_names[static_cast<std::size_t>(s)]; }

[[nodiscard]] constexpr std::optional<split> parse_split(std::string_view s) noexcept {
    for (std::size_t i = 0; i < split_names.size(); ++i)
        if (split_names[i] == s) return static_cast<split>(i);
    if (s == "val") return split::validation;
    return std::nullopt;
}

struct capture_info {
    std::string name;       // the file relative to the dataset's root, or the lab capture's name
    std::uint32_t label = 0;
    std::int8_t vpn = -1;   // 0 plain, 1 VPN, -1 unknown (only .fpr files say)
    split part = split::train;
};

struct sample_info {
    std::uint32_t label = 0;
    split part = split::train;
    std::uint32_t capture = 0;          // index into captures
    flow_key key;                       // the flow's key (empty under all_flows)
    std::int64_t block_start_ns = 0;    // the block's window, absolute
    std::int64_t block_end_ns = 0;
    std::uint64_t first_packet = 0;     // index into packets
    std::uint32_t packets = 0;
};

struct picture_set {
    std::string preset;                 // the preset's name (flowpic/presets/)
    std::vector<std::string> classes;   // label order
    blocks::window_spec window;         // the windows the blocks were cut with
    std::uint64_t seed = 0;             // of the split
    std::array<double, 3> fractions{0.7, 0.15, 0.15};  // train, validation, test: as asked
    std::vector<capture_info> captures;
    std::vector<sample_info> samples;
    picture::sparse_stack<float> pictures;  // one per sample
    std::vector<packet> packets;        // every sample's block, back to back (absolute times)
    std::string label_map;              // the label map (CSV text) that named the classes; empty
                                        // when they came from class directories only

    [[nodiscard]] std::size_t size() const noexcept { return samples.size(); }
    [[nodiscard]] std::span<const packet> packets_of(std::size_t i) const {
        const auto& s = samples.at(i);
        return std::span<const packet>(packets).subspan(static_cast<std::size_t>(s.first_packet), s.packets);
    }
    // Indices of the samples of one split (all samples when `part` is empty), in order.
    [[nodiscard]] std::vector<std::size_t> indices(std::optional<split> part = std::nullopt) const {
        std::vector<std::size_t> out;
        for (std::size_t i = 0; i < samples.size(); ++i)
            if (!part || samples[i].part == *part) out.push_back(i);
        return out;
    }
    // Samples per class in one split (or all).
    [[nodiscard]] std::vector<std::size_t> class_counts(std::optional<split> part = std::nullopt) const {
        std::vector<std::size_t> n(classes.size(), 0);
        for (const auto& s : samples)
            if (!part || s.part == *part) ++n.at(s.label);
        return n;
    }
};

}  // namespace flowpic::train
