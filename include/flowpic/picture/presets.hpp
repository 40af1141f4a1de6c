#pragma once
// Presets: the published FlowPic variants (reference.md A.1 to A.3), each bundling the block
// policy (windows), the flow grouping and the picture policy of its reference.
//
//   using P = picture::presets::mini_flowpic<32>;
//   flows::flow_table<P::flow_key> table({}, P::window);
//   picture::maker<P::picture> m;

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/picture/histogram.hpp"

namespace flowpic::picture::presets {

// A.1: the original FlowPic as the authors coded it. Unidirectional flows, 60 s windows
// [60k, 60k + 60] from the flow's first packet, > 10 packets, span > 50 s; 1500x1500, rows =
// size, time stretched over the block's span on the authors' microsecond clock, sizes > 1500
// dropped, uint16 counts.
struct shapira2019 {
    static constexpr std::string_view name = "shapira2019";
    static constexpr blocks::window_spec window = blocks::specs::shapira2019;
    using flow_key = flows::unidirectional;
    using picture = histogram<resolution<1500, 1500>, orientation::size_rows, time_axis::stretched<clock::authors_us>,
                              size_axis::identity<1500, overflow::drop>, counts::raw<std::uint16_t>, channels::counts>;
};

// A.2: mini-FlowPic as tcbench replicates it. Both directions of a connection, its first 15 s
// (t < 15 s), Dim x Dim, sizes clipped to 1500 then scaled, time scaled over the window,
// counts clipped to 255 and divided by 255 (float32). Dim: 32 (the default), 64 or 1500.
template <std::size_t Dim = 32>
struct mini_flowpic {
    static_assert(Dim > 0, "flowpic: mini_flowpic needs a positive resolution");
    static constexpr std::string_view name = Dim == 32 ? "mini_flowpic" : Dim == 64 ? "mini_flowpic64"
                                           : Dim == 1500 ? "mini_flowpic1500" : "mini_flowpic_custom";
    static constexpr blocks::window_spec window = blocks::specs::mini_flowpic;
    using flow_key = flows::bidirectional;
    // fixed_window<0>: the block's own window (15 s here), measured from its start (the flow's
    // first packet), open at the end like tcbench's timetofirst < 15
    using picture = histogram<resolution<Dim, Dim>, orientation::size_rows,
                              time_axis::fixed_window<0, from::window_start, clock::seconds, window_end::open>,
                              size_axis::scaled<1500, overflow::clip>, counts::clip255<float>, channels::counts>;
};

// A.3: the network-stats replication. Every flow of the input mixed, non-overlapping 60 s chunks,
// the last partial one dropped; rows = time (integer milliseconds, stretched over the span of the
// packets <= 1500 B), sizes > 1500 dropped, counts / max, second channel = download fraction.
struct network_stats {
    static constexpr std::string_view name = "network_stats";
    static constexpr blocks::window_spec window = blocks::specs::network_stats;
    using flow_key = flows::all_flows;
    using picture = histogram<resolution<1500, 1500>, orientation::time_rows,
                              time_axis::stretched<clock::epoch_ticks<1'000'000>, span::kept_min_max>,
                              size_axis::identity<1500, overflow::drop>, counts::max_norm<float>,
                              channels::download_fraction>;
};

inline constexpr std::string_view names[] = {"shapira2019", "mini_flowpic", "mini_flowpic64", "mini_flowpic1500",
                                              "network_stats"};

inline std::string names_list() {
    std::string s;
    for (auto n : names) {
        if (!s.empty()) s += ", ";
        s += n;
    }
    return s;
}

// Calls f(Preset{}) for the preset called `name`; std::invalid_argument for unknown names.
template <class F>
decltype(auto) visit(std::string_view name, F&& f) {
    if (name == "shapira2019") return f(shapira2019{});
    if (name == "mini_flowpic" || name == "mini_flowpic32") return f(mini_flowpic<32>{});
    if (name == "mini_flowpic64") return f(mini_flowpic<64>{});
    if (name == "mini_flowpic1500") return f(mini_flowpic<1500>{});
    if (name == "network_stats") return f(network_stats{});
    throw std::invalid_argument("unknown preset '" + std::string(name) + "' (known: " + names_list() + ")");
}

}  // namespace flowpic::picture::presets
