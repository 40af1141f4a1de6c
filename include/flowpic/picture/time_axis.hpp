#pragma once
// Time-axis policies: how a packet's integer-nanosecond time becomes a coordinate on unit bins.
//
// Every variant is one formula, evaluated in float64 in the reference's order:
//     x = double(quantise(t - origin)) / divisor        (the clock: what the reference stored)
//     v = (x - x0) / S * bins                            (the axis: stretched or fixed window)
// and v is binned with numpy's rule (bins.hpp). The clock fixes what the reference's times
// were (the authors' microseconds since the session start as float64 seconds; tcbench's float64
// seconds; network-stats' integer milliseconds); the axis fixes x0 and S per block.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <type_traits>

#include "flowpic/blocks/block.hpp"
#include "flowpic/config.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/flows/flow.hpp"
#include "flowpic/picture/bins.hpp"

namespace flowpic::picture {

namespace kind {
struct time_axis {};
struct clock {};
}  // namespace kind

// Where a clock counts from.
enum class clock_origin : std::uint8_t {
    session,       // the flow's first packet (block.owner->first_ns; the window start without an owner)
    window_start,  // the block's window start
    epoch,         // the epoch; ticks are counted relative to the block's first tick to stay exact
};

enum class rounding : std::uint8_t { floor, half_away };  // to nearest, ties away from zero

namespace clock {

// The authors' CSV (generic_parser.py): round(t - t_session, 6) seconds, read back as float64.
// Kept as integer microseconds (ties away from zero, as Python 2's round) divided by 1e6, which
// is the float64 nearest to the decimal the CSV held.
struct authors_us {
    using policy_kind = kind::clock;
    static constexpr std::int64_t quantum_ns = 1000;
    static constexpr rounding round = rounding::half_away;
    static constexpr double divisor = 1e6;
    static constexpr clock_origin origin = clock_origin::session;
};

// Float64 seconds since the block's window start, double(ns) / 1e9 (tcbench's timetofirst for the
// first window of a flow).
struct seconds {
    using policy_kind = kind::clock;
    static constexpr std::int64_t quantum_ns = 1;
    static constexpr rounding round = rounding::floor;
    static constexpr double divisor = 1e9;
    static constexpr clock_origin origin = clock_origin::window_start;
};

// Integer ticks of Q nanoseconds since the epoch, floored (network-stats: Q = 1 ms).
template <std::int64_t Q>
struct epoch_ticks {
    static_assert(Q > 0, "flowpic: a clock tick must be at least 1 ns");
    using policy_kind = kind::clock;
    static constexpr std::int64_t quantum_ns = Q;
    static constexpr rounding round = rounding::floor;
    static constexpr double divisor = 1.0;
    static constexpr clock_origin origin = clock_origin::epoch;
};

}  // namespace clock

template <class C>
concept clock_policy = std::is_same_v<typename C::policy_kind, kind::clock> && requires {
    { C::quantum_ns } -> std::convertible_to<std::int64_t>;
    { C::divisor } -> std::convertible_to<double>;
    { C::round } -> std::convertible_to<rounding>;
    { C::origin } -> std::convertible_to<clock_origin>;
};

// Which packets define a stretched axis' first and last time.
namespace span {
struct first_last {};    // the block's first and last packet (A.1: ts[0], ts[-1])
struct kept_min_max {};  // min and max over the packets the size axis keeps (A.3 drops sizes > 1500 first)
}  // namespace span

// What the fixed window's x0 is.
namespace from {
struct window_start {};  // the block's window start (tcbench: the flow's first packet)
struct first_packet {};  // the block's first packet (the paper's text; the authors' tps argument)
}  // namespace from

enum class window_end : std::uint8_t {
    closed,  // x - x0 == S lands in the last bin (histogram semantics)
    open,    // x - x0 >= S is dropped first (tcbench keeps timetofirst < 15 only)
};

namespace time_axis {

// Stretched over the block's own span: S = x(last) - x(first) (A.1 as coded, A.3).
template <class Clock = clock::authors_us, class Span = span::first_last>
struct stretched {
    static_assert(clock_policy<Clock>, "flowpic: the clock must be a picture::clock policy");
    static_assert(std::is_same_v<Span, span::first_last> || std::is_same_v<Span, span::kept_min_max>,
                  "flowpic: the span must be span::first_last or span::kept_min_max");
    using policy_kind = kind::time_axis;
    using clock = Clock;
    using span_policy = Span;
    static constexpr bool is_stretched = true;
    static constexpr std::int64_t length_ns = 0;
    static constexpr window_end end = window_end::closed;
};

// A fixed window of LengthNs (0: the block's own window length) mapped onto the bins:
// S = LengthNs in clock units (A.1 as written: 60 s -> 1500; A.2: 15 s -> dim).
template <std::int64_t LengthNs = 0, class From = from::window_start, class Clock = clock::seconds,
          window_end End = window_end::closed>
struct fixed_window {
    static_assert(LengthNs >= 0, "flowpic: a window length cannot be negative");
    static_assert(clock_policy<Clock>, "flowpic: the clock must be a picture::clock policy");
    static_assert(std::is_same_v<From, from::window_start> || std::is_same_v<From, from::first_packet>,
                  "flowpic: a fixed window starts at from::window_start or from::first_packet");
    using policy_kind = kind::time_axis;
    using clock = Clock;
    using from_policy = From;
    static constexpr bool is_stretched = false;
    static constexpr std::int64_t length_ns = LengthNs;
    static constexpr window_end end = End;
};

// The first N seconds of the block, strictly (t < N kept): tcbench's get_flowpic.
template <std::int64_t Seconds>
using first_seconds = fixed_window<Seconds * 1'000'000'000, from::window_start, clock::seconds, window_end::open>;

}  // namespace time_axis

template <class P>
concept time_axis_policy = std::is_same_v<typename P::policy_kind, kind::time_axis> && clock_policy<typename P::clock> &&
    requires {
        { P::is_stretched } -> std::convertible_to<bool>;
        { P::length_ns } -> std::convertible_to<std::int64_t>;
        { P::end } -> std::convertible_to<window_end>;
    };

// ---------------------------------------------------------------------------------------------
// Evaluation, shared by every backend.

// floor(a / Q), also for negative a.
template <std::int64_t Q>
[[nodiscard]] FLOWPIC_ALWAYS_INLINE constexpr std::int64_t floor_div(std::int64_t a) noexcept {
    if constexpr (Q == 1) {
        return a;
    } else {
        const std::int64_t q = a / Q;
        return (a % Q != 0 && a < 0) ? q - 1 : q;
    }
}

// The clock's integer count for an offset from its origin.
template <clock_policy Clock>
[[nodiscard]] FLOWPIC_ALWAYS_INLINE constexpr std::int64_t quantise(std::int64_t d) noexcept {
    constexpr std::int64_t q = Clock::quantum_ns;
    if constexpr (q == 1) return d;
    else if constexpr (Clock::round == rounding::half_away) return d >= 0 ? (d + q / 2) / q : -((q / 2 - d) / q);
    else return floor_div<q>(d);
}

template <clock_policy Clock>
[[nodiscard]] FLOWPIC_ALWAYS_INLINE double clock_value(std::int64_t t, std::int64_t origin) noexcept {
    const double x = static_cast<double>(quantise<Clock>(t - origin));
    if constexpr (Clock::divisor == 1.0) return x;
    else return x / Clock::divisor;
}

// Per-block constants of the time formula.
struct time_params {
    std::int64_t origin = 0;  // the clock's origin, ns
    double x0 = 0;            // x of the axis start
    std::int64_t q0 = 0;      // the clock's integer count at x0: x0 = q0 / divisor
    double span = 0;          // S, in clock units
    double bins = 0;          // number of time bins, as float64
    std::int32_t nbins = 0;
    bool open_end = false;
};

// x0 and S of a block under axis A. `kept(size)` tells which sizes the size axis keeps.
template <time_axis_policy A, class Kept>
[[nodiscard]] time_params prepare_time(const blocks::block& b, std::uint32_t bins, Kept&& kept) {
    using C = typename A::clock;
    time_params p;
    p.bins = static_cast<double>(bins);
    p.nbins = static_cast<std::int32_t>(bins);
    p.open_end = A::end == window_end::open;
    const packet* pk = b.packets.data();
    const std::size_t n = b.packets.size();
    if constexpr (C::origin == clock_origin::session) {
        p.origin = b.owner ? b.owner->first_ns : b.window_start_ns;
    } else if constexpr (C::origin == clock_origin::window_start) {
        p.origin = b.window_start_ns;
    } else {
        const std::int64_t ref = n ? pk[0].time_ns : b.window_start_ns;
        p.origin = floor_div<C::quantum_ns>(ref) * C::quantum_ns;
    }
    if constexpr (A::is_stretched) {
        if (n == 0) return p;
        std::int64_t lo = pk[0].time_ns, hi = pk[n - 1].time_ns;
        if constexpr (std::is_same_v<typename A::span_policy, span::kept_min_max>) {
            bool any = false;
            for (std::size_t i = 0; i < n; ++i) {
                if (!kept(pk[i].size)) continue;
                const std::int64_t t = pk[i].time_ns;
                if (!any) lo = hi = t;
                lo = std::min(lo, t);
                hi = std::max(hi, t);
                any = true;
            }
            if (!any) return p;  // nothing is kept: no packet reaches the histogram anyway
        }
        p.q0 = quantise<C>(lo - p.origin);
        p.x0 = clock_value<C>(lo, p.origin);
        p.span = clock_value<C>(hi, p.origin) - p.x0;
    } else {
        std::int64_t len = A::length_ns > 0 ? A::length_ns : b.window_end_ns - b.window_start_ns;
        const std::int64_t start =
            std::is_same_v<typename A::from_policy, from::first_packet> && n ? pk[0].time_ns : b.window_start_ns;
        p.q0 = quantise<C>(start - p.origin);
        p.x0 = clock_value<C>(start, p.origin);
        // the length in clock units: whole seconds and milliseconds are exact
        p.span = static_cast<double>(len) / (static_cast<double>(C::quantum_ns) * C::divisor);
    }
    return p;
}

// The time bin of x (an already evaluated clock value), or -1.
[[nodiscard]] FLOWPIC_ALWAYS_INLINE std::int32_t time_bin(double x, const time_params& p) noexcept {
    const double u = x - p.x0;
    if (p.open_end && !(u < p.span)) return -1;
    return unit_bin(u / p.span * p.bins, p.nbins);
}

}  // namespace flowpic::picture
