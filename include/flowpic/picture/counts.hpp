#pragma once
// Count policies: the value a cell gets from its packet count, and the type it is stored in.
// Values are computed in float64 as numpy computes them, then converted to the value type.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace flowpic::picture {

namespace kind {
struct counts {};
}  // namespace kind

namespace counts {

// The raw count (A.1: histogram2d(...).astype(uint16)). Counts beyond the type's range saturate
// (numpy's float-to-uint16 cast of such counts is undefined; a block rarely gets there).
template <class T = std::uint16_t>
struct raw {
    static_assert(std::is_arithmetic_v<T>, "flowpic: counts::raw needs an arithmetic value type");
    using policy_kind = kind::counts;
    using value_type = T;
    static constexpr bool needs_max = false;
    [[nodiscard]] static T value(std::uint32_t c, std::uint32_t /*max*/) noexcept {
        if constexpr (std::is_integral_v<T>) {
            constexpr auto top = std::numeric_limits<T>::max();
            if constexpr (std::numeric_limits<T>::digits < 32)
                return c > static_cast<std::uint32_t>(top) ? top : static_cast<T>(c);
            else
                return static_cast<T>(c);
        } else {
            return static_cast<T>(c);
        }
    }
};

// min(count, 255) / 255 (A.2: tcbench clips to 255 as uint8, ToTensor divides by 255).
template <class T = float>
struct clip255 {
    static_assert(std::is_floating_point_v<T>, "flowpic: counts::clip255 needs a floating-point value type");
    using policy_kind = kind::counts;
    using value_type = T;
    static constexpr bool needs_max = false;
    [[nodiscard]] static T value(std::uint32_t c, std::uint32_t /*max*/) noexcept {
        return static_cast<T>(static_cast<double>(std::min<std::uint32_t>(c, 255)) / 255.0);
    }
};

// count / (largest count of the picture) (A.3: h / h.max()). An empty picture stays all zero
// (numpy would give 0/0 = NaN everywhere).
template <class T = double>
struct max_norm {
    static_assert(std::is_floating_point_v<T>, "flowpic: counts::max_norm needs a floating-point value type");
    using policy_kind = kind::counts;
    using value_type = T;
    static constexpr bool needs_max = true;
    [[nodiscard]] static T value(std::uint32_t c, std::uint32_t max) noexcept {
        return max == 0 ? T(0) : static_cast<T>(static_cast<double>(c) / static_cast<double>(max));
    }
};

// log(1 + count) (numpy.log1p), a compressed dynamic range.
template <class T = float>
struct log1p {
    static_assert(std::is_floating_point_v<T>, "flowpic: counts::log1p needs a floating-point value type");
    using policy_kind = kind::counts;
    using value_type = T;
    static constexpr bool needs_max = false;
    [[nodiscard]] static T value(std::uint32_t c, std::uint32_t /*max*/) noexcept {
        return static_cast<T>(std::log1p(static_cast<double>(c)));
    }
};

}  // namespace counts

template <class P>
concept counts_policy = std::is_same_v<typename P::policy_kind, kind::counts> && std::is_arithmetic_v<typename P::value_type> &&
    requires(std::uint32_t c) {
        { P::needs_max } -> std::convertible_to<bool>;
        { P::value(c, c) } -> std::same_as<typename P::value_type>;
    };

}  // namespace flowpic::picture
