#pragma once
// A.2: mini-FlowPic as tcbench replicates it, at 32x32 (the default), 64x64 and 1500x1500.

#include <array>
#include <cstddef>
#include <string_view>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/networks_fwd.hpp"
#include "flowpic/picture/histogram.hpp"
#include "flowpic/presets/preset.hpp"

namespace flowpic::presets {

// Both directions of a connection, its first 15 s (t < 15 s), Dim x Dim, sizes clipped to 1500
// then scaled, time scaled over the window, counts clipped to 255 and divided by 255 (float32);
// PyTorch's initialisation, batch 32. The base of the three variants and of other resolutions.
template <std::size_t Dim>
struct mini_flowpic_at {
    static_assert(Dim > 0, "flowpic: mini_flowpic needs a positive resolution");
    static constexpr std::string_view name = "mini_flowpic_custom";
    static constexpr blocks::window_spec window = blocks::specs::mini_flowpic;
    using flow_key = flows::bidirectional;
    // fixed_window<0>: the block's own window (15 s here), measured from its start (the flow's
    // first packet), open at the end like tcbench's timetofirst < 15
    using picture = picture::histogram<
        picture::resolution<Dim, Dim>, picture::orientation::size_rows,
        picture::time_axis::fixed_window<0, picture::from::window_start, picture::clock::seconds,
                                         picture::window_end::open>,
        picture::size_axis::scaled<1500, picture::overflow::clip>, picture::counts::clip255<float>,
        picture::channels::counts>;
    template <std::size_t Classes>
    using network = typename nn::networks::mini_flowpic_of<Classes, Dim>::type;
    static constexpr nn::init_scheme init = nn::init_scheme::kaiming_uniform;
    static constexpr std::size_t default_batch = 32;
    static constexpr class_rule classes{2, 10};
};

struct mini_flowpic : mini_flowpic_at<32> {
    static constexpr std::string_view name = "mini_flowpic";
    static constexpr std::array<std::string_view, 1> aliases{"mini_flowpic32"};
};

struct mini_flowpic64 : mini_flowpic_at<64> {
    static constexpr std::string_view name = "mini_flowpic64";
};

// tcbench runs the FlowPic network on its 1500x1500 pictures.
struct mini_flowpic1500 : mini_flowpic_at<1500> {
    static constexpr std::string_view name = "mini_flowpic1500";
    template <std::size_t Classes>
    using network = typename nn::networks::shapira2019_of<Classes, 1500, 1500, 1>::type;
};

}  // namespace flowpic::presets
