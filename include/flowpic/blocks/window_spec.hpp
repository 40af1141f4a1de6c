#pragma once
// Windowing policy: how a flow is cut into blocks (time windows) for pictures.

#include <cstdint>

namespace flowpic::blocks {

// Which windows are emitted when a flow ends (end of input, idle timeout or eviction).
enum class end_rule : std::uint8_t {
    complete,  // only windows the flow outlived: window end <= the flow's last packet
    authors,   // as complete, plus window 0 when last - first > length - stride (the reference
               // converter's range(int(last / stride - length / stride) + 1))
    any,       // every window that starts at or before the last packet (partial windows too)
};

struct window_spec {
    std::int64_t length_ns = 60'000'000'000;  // block length
    std::int64_t stride_ns = 0;               // distance between window starts; 0 = length (no overlap)
    std::uint32_t min_packets = 1;            // keep a block holding at least this many packets
    std::int64_t min_span_ns = 0;             // keep a block whose last - first >= this
    bool inclusive_end = false;               // window [start, start + length] instead of [start, start + length)
    end_rule ends = end_rule::complete;
    bool first_only = false;                  // only window 0: the first `length` of the flow (mini-FlowPic)
    // Blocks only of flows of at least this many packets (A.1's sessions of >= 20): a flow's
    // windows are held until it reaches the count, and dropped if it ends short of it.
    std::uint32_t min_flow_packets = 0;

    [[nodiscard]] constexpr std::int64_t stride() const noexcept { return stride_ns > 0 ? stride_ns : length_ns; }
    friend constexpr bool operator==(const window_spec&, const window_spec&) = default;
};

[[nodiscard]] constexpr std::int64_t seconds(double s) noexcept {
    return static_cast<std::int64_t>(s * 1e9 + (s >= 0 ? 0.5 : -0.5));
}

// Compile-time windowing policy; `window<spec>::spec` is what the stages read.
template <window_spec Spec>
struct window {
    static_assert(Spec.length_ns > 0, "flowpic: a window needs a positive length");
    static_assert(Spec.stride_ns >= 0, "flowpic: a window stride cannot be negative");
    static constexpr window_spec spec = Spec;
};

namespace specs {
// A.1 as coded: sessions of >= 20 packets, 60 s windows, both ends inclusive, > 10 packets,
// span > 50 s, the converter's end rule.
inline constexpr window_spec shapira2019{seconds(60), seconds(60), 11, seconds(50) + 1, true, end_rule::authors, false, 20};
// A.1's "overlap" datasets: 60 s windows every 15 s, span > 40 s.
inline constexpr window_spec shapira2019_overlap{seconds(60), seconds(15), 11, seconds(40) + 1, true, end_rule::authors, false, 20};
// A.2: the first 15 s of the flow (t < 15 s), whatever its length.
inline constexpr window_spec mini_flowpic{seconds(15), 0, 1, 0, false, end_rule::any, true};
// A.3: non-overlapping 60 s chunks from the first packet, the last partial chunk dropped.
inline constexpr window_spec network_stats{seconds(60), 0, 1, 0, false, end_rule::complete, false};
// The golden counts of ../shared/data: complete non-overlapping windows with >= 10 packets.
inline constexpr window_spec counted15{seconds(15), 0, 10, 0, false, end_rule::complete, false};
inline constexpr window_spec counted60{seconds(60), 0, 10, 0, false, end_rule::complete, false};
// One block per flow holding all its packets (a window of about 73 years), when the flow ends.
inline constexpr window_spec whole_flow{std::int64_t{1} << 61, 0, 1, 0, false, end_rule::any, true};
}  // namespace specs

}  // namespace flowpic::blocks
