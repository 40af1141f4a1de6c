#pragma once
// Picture geometry policies: resolution (rows x columns) and which axis the rows hold.

#include <cstddef>
#include <cstdint>
#include <concepts>
#include <type_traits>

namespace flowpic::picture {

namespace kind {
struct resolution {};
struct orientation {};
}  // namespace kind

// H rows by W columns, any size (1500x1500, 64x64, 32x32, ...).
template <std::size_t H, std::size_t W = H>
struct resolution {
    using policy_kind = kind::resolution;
    static_assert(H > 0 && W > 0, "flowpic: a picture needs at least one row and one column");
    static_assert(H * W < (std::size_t{1} << 30), "flowpic: at most 2^30 cells per picture (cell indices are 32-bit)");
    static constexpr std::size_t height = H;
    static constexpr std::size_t width = W;
    static constexpr std::size_t cells = H * W;
};

namespace orientation {
// Rows are packet sizes, columns time (A.1, A.2: numpy.histogram2d(sizes, times)).
struct size_rows {
    using policy_kind = kind::orientation;
    static constexpr bool time_in_rows = false;
};
// Rows are time, columns packet sizes (A.3: numpy.histogram2d(times, sizes)).
struct time_rows {
    using policy_kind = kind::orientation;
    static constexpr bool time_in_rows = true;
};
}  // namespace orientation

template <class P>
concept resolution_policy = requires {
    { P::height } -> std::convertible_to<std::size_t>;
    { P::width } -> std::convertible_to<std::size_t>;
} && std::is_same_v<typename P::policy_kind, kind::resolution>;

template <class P>
concept orientation_policy = requires {
    { P::time_in_rows } -> std::convertible_to<bool>;
} && std::is_same_v<typename P::policy_kind, kind::orientation>;

}  // namespace flowpic::picture
