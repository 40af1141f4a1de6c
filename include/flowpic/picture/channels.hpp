#pragma once
// Channel policies: what each of a picture's channels holds. A cell is listed in a sparse
// picture when at least one packet fell in it; unlisted cells hold the channel's background.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "flowpic/picture/counts.hpp"

namespace flowpic::picture {

namespace kind {
struct channels {};
}  // namespace kind

namespace channels {

// One channel: the counts policy applied to the cell's packet count.
struct counts {
    using policy_kind = kind::channels;
    static constexpr std::size_t count = 1;
    static constexpr bool needs_direction = false;
    static constexpr std::uint32_t largest(std::uint32_t total, std::uint32_t /*down*/) noexcept { return total; }
    template <counts_policy C>
    static void values(std::uint32_t total, std::uint32_t /*down*/, std::uint32_t max, typename C::value_type* out) noexcept {
        out[0] = C::value(total, max);
    }
    template <class T>
    static constexpr T background(std::size_t /*channel*/) noexcept { return T(0); }
};

// Counts, then the fraction of the cell's packets that went downstream (direction::reverse),
// 0.5 in empty cells (A.3's second channel: the mean of dir - 1 per bin).
struct download_fraction {
    using policy_kind = kind::channels;
    static constexpr std::size_t count = 2;
    static constexpr bool needs_direction = true;
    static constexpr std::uint32_t largest(std::uint32_t total, std::uint32_t /*down*/) noexcept { return total; }
    template <counts_policy C>
    static void values(std::uint32_t total, std::uint32_t down, std::uint32_t max, typename C::value_type* out) noexcept {
        using T = typename C::value_type;
        out[0] = C::value(total, max);
        out[1] = static_cast<T>(static_cast<double>(down) / static_cast<double>(total));
    }
    template <class T>
    static constexpr T background(std::size_t channel) noexcept { return channel == 1 ? T(0.5) : T(0); }
};

// Counts of upstream (direction::forward) packets, then of downstream packets; the counts
// policy applies to each, with one maximum over the whole picture.
struct by_direction {
    using policy_kind = kind::channels;
    static constexpr std::size_t count = 2;
    static constexpr bool needs_direction = true;
    static constexpr std::uint32_t largest(std::uint32_t total, std::uint32_t down) noexcept {
        return total - down > down ? total - down : down;
    }
    template <counts_policy C>
    static void values(std::uint32_t total, std::uint32_t down, std::uint32_t max, typename C::value_type* out) noexcept {
        out[0] = C::value(total - down, max);
        out[1] = C::value(down, max);
    }
    template <class T>
    static constexpr T background(std::size_t /*channel*/) noexcept { return T(0); }
};

}  // namespace channels

template <class P>
concept channels_policy = std::is_same_v<typename P::policy_kind, kind::channels> && requires {
    { P::count } -> std::convertible_to<std::size_t>;
    { P::needs_direction } -> std::convertible_to<bool>;
    { P::largest(std::uint32_t{}, std::uint32_t{}) } -> std::convertible_to<std::uint32_t>;
};

}  // namespace flowpic::picture
