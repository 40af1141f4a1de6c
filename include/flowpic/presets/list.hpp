#pragma once
// Presets by name: a type list of presets, and what a program that learns the preset at run time
// (a --preset option, a model or dataset file's header) derives from it.
//
//   presets::visit("mini_flowpic", [](auto p) { using P = decltype(p); ... });
//   using mine = presets::append<presets::builtin, my_preset>;          // a user's preset added
//   presets::visit<mine>(name, f);

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flowpic/presets/preset.hpp"

namespace flowpic::presets {

template <class... P>
struct list {
    static_assert((preset<P> && ...), "flowpic::presets::list: every element must be a preset: name, window, "
                                      "flow_key, picture, network<C>, init, default_batch and classes "
                                      "(see flowpic/presets/preset.hpp)");
    static constexpr std::size_t size = sizeof...(P);
};

namespace detail {
template <class L, class... Extra>
struct append_impl;
template <class... P, class... Extra>
struct append_impl<list<P...>, Extra...> {
    using type = list<P..., Extra...>;
};

template <class P>
constexpr bool answers_to(std::string_view name) {
    if (name == P::name) return true;
    if constexpr (requires { P::aliases; }) {
        for (std::string_view a : P::aliases)
            if (name == a) return true;
    }
    return false;
}
}  // namespace detail

// The list L with more presets after its own.
template <class L, class... Extra>
using append = typename detail::append_impl<L, Extra...>::type;

// The canonical names of L's presets, in list order.
template <class L>
std::vector<std::string> names() {
    return []<class... P>(list<P...>) { return std::vector<std::string>{std::string(P::name)...}; }(L{});
}

// "a, b, c": for help texts and error messages.
template <class L>
std::string names_list() {
    std::string s;
    for (const auto& n : names<L>()) s += (s.empty() ? "" : ", ") + n;
    return s;
}

template <class L>
bool contains(std::string_view name) {
    return []<class... P>(std::string_view n, list<P...>) { return (detail::answers_to<P>(n) || ...); }(name, L{});
}

namespace detail {
template <class L, class F, class P, class... Rest>
decltype(auto) visit_in(std::string_view name, F& f, list<P, Rest...>) {
    if (answers_to<P>(name)) return f(P{});
    if constexpr (sizeof...(Rest) > 0) {
        return visit_in<L>(name, f, list<Rest...>{});
    } else {
        throw std::invalid_argument("unknown preset '" + std::string(name) + "' (known: " + names_list<L>() + ")");
    }
}

}  // namespace detail

// f(P{}) for the preset of L called (or aliased) `name`; std::invalid_argument for others.
template <class L, class F>
decltype(auto) visit(std::string_view name, F&& f) {
    return detail::visit_in<L>(name, f, L{});
}

}  // namespace flowpic::presets
