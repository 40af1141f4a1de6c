#pragma once
// A.1: the original FlowPic as the authors coded it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/networks_fwd.hpp"
#include "flowpic/picture/histogram.hpp"
#include "flowpic/presets/preset.hpp"

namespace flowpic::presets {

// Unidirectional flows, 60 s windows [60k, 60k + 60] from the flow's first packet, > 10 packets,
// span > 50 s; 1500x1500, rows = size, time stretched over the block's span on the authors'
// microsecond clock, sizes > 1500 dropped, uint16 counts; the Keras network, Glorot init, batch 128.
struct shapira2019 {
    static constexpr std::string_view name = "shapira2019";
    static constexpr blocks::window_spec window = blocks::specs::shapira2019;
    using flow_key = flows::unidirectional;
    using picture = picture::histogram<picture::resolution<1500, 1500>, picture::orientation::size_rows,
                                       picture::time_axis::stretched<picture::clock::authors_us>,
                                       picture::size_axis::identity<1500, picture::overflow::drop>,
                                       picture::counts::raw<std::uint16_t>, picture::channels::counts>;
    template <std::size_t Classes>
    using network = typename nn::networks::shapira2019_of<Classes, 1500, 1500, 1>::type;
    static constexpr nn::init_scheme init = nn::init_scheme::glorot_uniform;
    static constexpr std::size_t default_batch = 128;
    static constexpr class_rule classes{2, 10};
};

}  // namespace flowpic::presets
