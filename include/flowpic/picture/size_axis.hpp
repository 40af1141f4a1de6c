#pragma once
// Size-axis policies: how a packet size becomes a coordinate on unit bins, and what happens to
// sizes beyond the range. Sizes are integers, so each policy is applied once per size into a
// lookup table (exact by construction, the same table for every backend).

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "flowpic/config.hpp"
#include "flowpic/picture/bins.hpp"

namespace flowpic::picture {

namespace kind {
struct size_axis {};
}  // namespace kind

namespace overflow {
struct drop {};  // sizes above the range fall outside the histogram (A.1, A.3)
struct clip {};  // sizes above the range count as the maximum (A.2: np.clip(sizes, 0, 1500))
}  // namespace overflow

namespace size_axis {

// v = size, unit bins of one byte over [0, Max]: numpy.histogram2d with edges range(0, Max + 1).
// The size dimension must have exactly Max bins.
template <std::uint32_t Max = 1500, class Overflow = overflow::drop>
struct identity {
    using policy_kind = kind::size_axis;
    using overflow = Overflow;
    static constexpr std::uint32_t max_size = Max;
    static constexpr bool needs_bins_equal_max = true;
    [[nodiscard]] static double coordinate(std::uint32_t s, std::uint32_t /*bins*/) noexcept {
        return static_cast<double>(s);
    }
};

// v = (size / Max) * bins in float64, edges range(bins + 1): tcbench's get_flowpic (A.2). Note
// that at bins == Max this is not the identity: (27 / 1500) * 1500 < 27 lands in bin 26.
template <std::uint32_t Max = 1500, class Overflow = overflow::clip>
struct scaled {
    using policy_kind = kind::size_axis;
    using overflow = Overflow;
    static constexpr std::uint32_t max_size = Max;
    static constexpr bool needs_bins_equal_max = false;
    [[nodiscard]] static double coordinate(std::uint32_t s, std::uint32_t bins) noexcept {
        return (static_cast<double>(s) / static_cast<double>(Max)) * static_cast<double>(bins);
    }
};

}  // namespace size_axis

template <class P>
concept size_axis_policy = std::is_same_v<typename P::policy_kind, kind::size_axis> &&
    (std::is_same_v<typename P::overflow, overflow::drop> || std::is_same_v<typename P::overflow, overflow::clip>) &&
    requires(std::uint32_t s) {
        { P::max_size } -> std::convertible_to<std::uint32_t>;
        { P::coordinate(s, s) } -> std::same_as<double>;
    };

// Bin of every size 0..Max, plus one entry (index Max + 1) for all larger sizes: -1 = dropped.
template <size_axis_policy Axis>
[[nodiscard]] std::vector<std::int32_t> size_lut(std::uint32_t bins) {
    std::vector<std::int32_t> lut(std::size_t{Axis::max_size} + 2);
    for (std::uint32_t s = 0; s <= Axis::max_size; ++s)
        lut[s] = unit_bin(Axis::coordinate(s, bins), static_cast<std::int32_t>(bins));
    lut[std::size_t{Axis::max_size} + 1] =
        std::is_same_v<typename Axis::overflow, overflow::clip> ? lut[Axis::max_size] : -1;
    return lut;
}

// Index into size_lut for a packet size.
template <size_axis_policy Axis>
[[nodiscard]] FLOWPIC_ALWAYS_INLINE std::uint32_t size_lut_index(std::uint32_t s) noexcept {
    return std::min(s, Axis::max_size + 1);
}

}  // namespace flowpic::picture
