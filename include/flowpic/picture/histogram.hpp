#pragma once
// picture::histogram<Policies...>: the picture stage's policies in one type. Give only the
// policies that differ from the defaults, in any order; the defaults are A.1 (shapira2019):
//
//   histogram<>                                            1500x1500 uint16 counts, rows = size,
//                                                          time stretched over the block's span
//   histogram<resolution<32>, size_axis::scaled<>,         tcbench's mini-FlowPic (A.2)
//             time_axis::first_seconds<15>, counts::clip255<float>>
//
// Policy kinds: resolution, orientation, time_axis, size_axis, counts, channels.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "flowpic/picture/channels.hpp"
#include "flowpic/picture/counts.hpp"
#include "flowpic/picture/resolution.hpp"
#include "flowpic/picture/size_axis.hpp"
#include "flowpic/picture/time_axis.hpp"

namespace flowpic::picture {

namespace detail {

template <class P>
concept has_policy_kind = requires { typename P::policy_kind; };

template <class P, class Kind>
inline constexpr bool is_kind = [] {
    if constexpr (has_policy_kind<P>) return std::is_same_v<typename P::policy_kind, Kind>;
    else return false;
}();

template <class Kind, class... Ps>
inline constexpr std::size_t count_kind = (std::size_t{0} + ... + (is_kind<Ps, Kind> ? 1 : 0));

// The first policy of Kind among Ps, or Default.
template <class Kind, class Default, class... Ps>
struct pick {
    using type = Default;
};
template <class Kind, class Default, class P, class... Ps>
struct pick<Kind, Default, P, Ps...> {
    using type = std::conditional_t<is_kind<P, Kind>, P, typename pick<Kind, Default, Ps...>::type>;
};

template <class P>
inline constexpr bool known_kind = is_kind<P, kind::resolution> || is_kind<P, kind::orientation> ||
                                   is_kind<P, kind::time_axis> || is_kind<P, kind::size_axis> ||
                                   is_kind<P, kind::counts> || is_kind<P, kind::channels>;

}  // namespace detail

template <class... Policies>
struct histogram {
    static_assert((detail::known_kind<Policies> && ...),
                  "flowpic: every histogram policy must be a picture resolution, orientation, time_axis, "
                  "size_axis, counts or channels policy");
    static_assert(detail::count_kind<kind::resolution, Policies...> <= 1, "flowpic: two resolution policies given");
    static_assert(detail::count_kind<kind::orientation, Policies...> <= 1, "flowpic: two orientation policies given");
    static_assert(detail::count_kind<kind::time_axis, Policies...> <= 1, "flowpic: two time_axis policies given");
    static_assert(detail::count_kind<kind::size_axis, Policies...> <= 1, "flowpic: two size_axis policies given");
    static_assert(detail::count_kind<kind::counts, Policies...> <= 1, "flowpic: two counts policies given");
    static_assert(detail::count_kind<kind::channels, Policies...> <= 1, "flowpic: two channels policies given");

    using resolution_type = typename detail::pick<kind::resolution, resolution<1500, 1500>, Policies...>::type;
    using orientation_type = typename detail::pick<kind::orientation, orientation::size_rows, Policies...>::type;
    using time_axis_type = typename detail::pick<kind::time_axis, time_axis::stretched<>, Policies...>::type;
    using size_axis_type = typename detail::pick<kind::size_axis, size_axis::identity<>, Policies...>::type;
    using counts_type = typename detail::pick<kind::counts, counts::raw<>, Policies...>::type;
    using channels_type = typename detail::pick<kind::channels, channels::counts, Policies...>::type;

    static_assert(resolution_type::height > 0 && resolution_type::width > 0);
    static_assert(orientation_policy<orientation_type>, "flowpic: bad orientation policy");
    static_assert(time_axis_policy<time_axis_type>, "flowpic: bad time_axis policy");
    static_assert(size_axis_policy<size_axis_type>, "flowpic: bad size_axis policy");
    static_assert(counts_policy<counts_type>, "flowpic: bad counts policy");
    static_assert(channels_policy<channels_type>, "flowpic: bad channels policy");

    using value_type = typename counts_type::value_type;
    static constexpr std::size_t height = resolution_type::height;
    static constexpr std::size_t width = resolution_type::width;
    static constexpr std::size_t cells = height * width;
    static constexpr std::size_t channel_count = channels_type::count;
    static constexpr bool time_in_rows = orientation_type::time_in_rows;
    static constexpr std::uint32_t time_bins = static_cast<std::uint32_t>(time_in_rows ? height : width);
    static constexpr std::uint32_t size_bins = static_cast<std::uint32_t>(time_in_rows ? width : height);

    static_assert(!size_axis_type::needs_bins_equal_max || size_bins == size_axis_type::max_size,
                  "flowpic: size_axis::identity<Max> needs exactly Max size bins (use size_axis::scaled for "
                  "other resolutions)");
    static_assert(size_axis_type::max_size < (1u << 30), "flowpic: the size range must stay below 2^30 bytes");
    static_assert(!std::is_same_v<channels_type, channels::download_fraction> ||
                      std::is_floating_point_v<value_type>,
                  "flowpic: channels::download_fraction needs a floating-point value type "
                  "(e.g. counts::max_norm<float>)");

    // Flat index of a cell in the row-major (rows x columns) layout.
    [[nodiscard]] static constexpr std::uint32_t cell(std::uint32_t size_bin, std::uint32_t time_bin) noexcept {
        if constexpr (time_in_rows) return time_bin * static_cast<std::uint32_t>(width) + size_bin;
        else return size_bin * static_cast<std::uint32_t>(width) + time_bin;
    }
};

template <class H>
concept histogram_policy = requires {
    typename H::value_type;
    typename H::time_axis_type;
    typename H::size_axis_type;
    typename H::counts_type;
    typename H::channels_type;
    { H::height } -> std::convertible_to<std::size_t>;
    { H::width } -> std::convertible_to<std::size_t>;
    { H::channel_count } -> std::convertible_to<std::size_t>;
};

}  // namespace flowpic::picture
