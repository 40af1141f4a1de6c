#pragma once
// A.3: the network-stats replication (video or not).

#include <cstddef>
#include <string_view>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/networks_fwd.hpp"
#include "flowpic/picture/histogram.hpp"
#include "flowpic/presets/preset.hpp"

namespace flowpic::presets {

// Every flow of the input mixed, non-overlapping 60 s chunks, the last partial one dropped; rows
// = time (integer milliseconds, stretched over the span of the packets <= 1500 B), sizes > 1500
// dropped, counts / max, second channel = download fraction. One sigmoid output: 1 class, or 2
// class names (the negative and the positive); Glorot init as in Keras, batch 32.
struct network_stats {
    static constexpr std::string_view name = "network_stats";
    static constexpr blocks::window_spec window = blocks::specs::network_stats;
    using flow_key = flows::all_flows;
    using picture = picture::histogram<picture::resolution<1500, 1500>, picture::orientation::time_rows,
                                       picture::time_axis::stretched<picture::clock::epoch_ticks<1'000'000>,
                                                                     picture::span::kept_min_max>,
                                       picture::size_axis::identity<1500, picture::overflow::drop>,
                                       picture::counts::max_norm<float>, picture::channels::download_fraction>;
    // (the channel count written to depend on Classes, so that the network is looked up only when used)
    template <std::size_t Classes>
    using network = typename nn::networks::network_stats_of<1500, 1500, picture::channel_count + 0 * Classes>::type;
    static constexpr nn::init_scheme init = nn::init_scheme::glorot_uniform;
    static constexpr std::size_t default_batch = 32;
    static constexpr class_rule classes{1, 2};
};

}  // namespace flowpic::presets
