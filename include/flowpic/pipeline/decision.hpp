#pragma once
// Decision policies: what the pipeline reports for a flow's blocks.
//
//   decision::per_block          one result per block, as it completes (the default)
//   decision::majority_vote      one result per flow when it ends: the label most of its blocks
//                                got (ties: the smaller class index); score = that share of blocks
//   decision::mean_probability   one result per flow when it ends: the label of the highest mean
//                                probability over its blocks; score = that mean
//
// A per-flow policy reads a tally of the flow's blocks; per_block never builds one.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace flowpic::decision {

// The blocks of one flow so far: per class, how many blocks chose it and the sum of its
// probability over the blocks.
struct tally {
    std::uint32_t blocks = 0;
    std::uint64_t packets = 0;
    std::int64_t first_block_start_ns = 0;
    std::uint64_t first_block_index = 0;
    std::vector<std::uint32_t> votes;
    std::vector<double> probability_sums;

    void add(std::span<const float> probs, std::int64_t block_start_ns, std::uint64_t block_index,
             std::uint64_t block_packets) {
        if (votes.empty()) {
            votes.assign(probs.size(), 0);
            probability_sums.assign(probs.size(), 0.0);
            first_block_start_ns = block_start_ns;
            first_block_index = block_index;
        }
        std::size_t best = 0;
        for (std::size_t c = 0; c < probs.size(); ++c) {
            probability_sums[c] += probs[c];
            if (probs[c] > probs[best]) best = c;
        }
        ++votes[best];
        ++blocks;
        packets += block_packets;
    }
};

struct per_block {
    static constexpr bool per_flow = false;
    static constexpr const char* name = "block";
};

struct majority_vote {
    static constexpr bool per_flow = true;
    static constexpr const char* name = "majority";
    [[nodiscard]] static std::pair<std::size_t, float> decide(const tally& t) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < t.votes.size(); ++c)
            if (t.votes[c] > t.votes[best]) best = c;
        return {best, static_cast<float>(double(t.votes[best]) / double(t.blocks))};
    }
};

struct mean_probability {
    static constexpr bool per_flow = true;
    static constexpr const char* name = "mean";
    [[nodiscard]] static std::pair<std::size_t, float> decide(const tally& t) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < t.probability_sums.size(); ++c)
            if (t.probability_sums[c] > t.probability_sums[best]) best = c;
        return {best, static_cast<float>(t.probability_sums[best] / double(t.blocks))};
    }
};

template <class D>
concept decision_policy = requires {
    { D::per_flow } -> std::convertible_to<bool>;
    { D::name } -> std::convertible_to<const char*>;
} && (!D::per_flow || requires(const tally& t) {
    { D::decide(t) } -> std::same_as<std::pair<std::size_t, float>>;
});

}  // namespace flowpic::decision
