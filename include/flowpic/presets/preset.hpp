#pragma once
// The preset concept: one type holds everything that defines a FlowPic variant, so that a tool,
// a dataset and a pipeline learn all of it from one name.
//
//   struct my_preset {
//       static constexpr std::string_view name = "my_preset";
//       static constexpr blocks::window_spec window = blocks::specs::counted15;   // windows
//       using flow_key = flows::bidirectional;                                    // flow grouping
//       using picture = picture::histogram<picture::resolution<32, 32>>;           // pictures
//       template <std::size_t Classes>
//       using network = nn::networks::mini_flowpic<Classes, 32>;                  // network for C classes
//       static constexpr nn::init_scheme init = nn::init_scheme::kaiming_uniform;  // initialisation
//       static constexpr std::size_t default_batch = 32;                          // training batch
//       static constexpr presets::class_rule classes{2, 10};                     // class counts it takes
//   };
//
// Optional: `static constexpr std::array<std::string_view, N> aliases` (other names it answers to).

#include <concepts>
#include <cstddef>
#include <string_view>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/picture/histogram.hpp"

namespace flowpic::presets {

// The class counts a preset's network is built for (a dataset's or model's class names).
struct class_rule {
    std::size_t min = 2;
    std::size_t max = 10;
    [[nodiscard]] constexpr bool accepts(std::size_t classes) const noexcept { return classes >= min && classes <= max; }
};

template <class P>
concept preset = requires {
    { P::name } -> std::convertible_to<std::string_view>;
    { P::window } -> std::convertible_to<blocks::window_spec>;
    { P::init } -> std::convertible_to<nn::init_scheme>;
    { P::default_batch } -> std::convertible_to<std::size_t>;
    { P::classes } -> std::convertible_to<class_rule>;
    typename P::flow_key;
    typename P::picture;
} && flows::key_policy<typename P::flow_key> && picture::histogram_policy<typename P::picture>;
// The network (P::network<C>) is checked where it is used (presets/networks.hpp): code that only
// needs a preset's windows and pictures never compiles a network.

}  // namespace flowpic::presets
