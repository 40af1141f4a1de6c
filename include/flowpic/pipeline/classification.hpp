#pragma once
// What the pipeline reports: one block (decision::per_block) or one flow (per-flow decisions).

#include <cstddef>
#include <cstdint>
#include <span>

#include "flowpic/core/flow_key.hpp"

namespace flowpic {

struct classification {
    flow_key key;                       // the flow's key as the flow table holds it (empty for all_flows)
    std::int64_t block_start_ns = 0;    // absolute start of the block's window (per flow: of its first block)
    std::uint64_t block_index = 0;      // window number within the flow (per flow: of its first block)
    std::uint32_t blocks = 1;           // blocks behind this result
    std::uint64_t packets = 0;          // packets in them
    std::size_t label = 0;              // class index in the network's output order
    float score = 0;                    // probability of `label` (per flow: as the decision defines it)
    std::span<const float> probabilities;  // per class; per-flow results: the mean over the blocks
    bool unknown = false;               // the probability of `label` is under its class's threshold
                                        // (pipeline options' min_score): none of the classes
};

// Counters of one run.
struct pipeline_stats {
    std::uint64_t packets = 0;
    std::uint64_t flows = 0;
    std::uint64_t blocks = 0;
    std::uint64_t results = 0;
    std::size_t peak_buffered_packets = 0;
    std::uint64_t backwards = 0;        // packets earlier than their flow's previous one
    std::uint64_t late_packets = 0;     // of those, earlier than every open window: in no picture
    std::uint64_t evicted_max_flows = 0;    // flows ended early by limits::max_flows
    std::uint64_t evicted_max_packets = 0;  // flows ended early by limits::max_packets
    std::uint64_t evicted_windows = 0;  // open windows those evictions cut short: no block, or a partial one
    std::uint64_t evicted_packets = 0;  // their packets
};

}  // namespace flowpic
