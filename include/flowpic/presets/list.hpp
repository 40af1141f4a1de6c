#pragma once
// Presets by name: a type list of presets, and what a program that learns the preset at run time
// (a --preset option, a model or dataset file's header) derives from it.
//
//   presets::visit("mini_flowpic", [](auto p) { using P = decltype(p); ... });
//   presets::visit_network<P>(classes, [](auto& net) { ... });         // P's network for `classes`
//   using mine = presets::append<presets::builtin, my_preset>;          // a user's preset added
//   presets::visit<mine>(name, f);

#include <array>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flowpic/presets/preset.hpp"

namespace flowpic::presets {

template <class... P>
struct list {
    static_assert((check<P>() && ...));
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

// One out-of-line function per network keeps the optimiser from inlining all of them into one.
template <class Net, class F>
[[gnu::noinline]] void visit_one(F& f) {
    f(*std::make_unique<Net>());
}
template <class P, class F, std::size_t... I>
void visit_classes(std::size_t classes, F& f, std::index_sequence<I...>) {
    ((classes == P::classes.min + I ? (visit_one<network_t<P, P::classes.min + I>>(f), true) : false) || ...);
}
}  // namespace detail

// f(P{}) for the preset of L called (or aliased) `name`; std::invalid_argument for others.
template <class L, class F>
decltype(auto) visit(std::string_view name, F&& f) {
    return detail::visit_in<L>(name, f, L{});
}

// "network mini_flowpic is built for 2 to 10 classes": empty when P takes `classes`.
template <preset P>
std::string class_count_problem(std::size_t classes) {
    if (P::classes.accepts(classes)) return {};
    const auto n = [](std::size_t v) { return std::to_string(v); };
    return "network " + std::string(P::name) + " is built for " +
           (P::classes.min == P::classes.max ? n(P::classes.min) : n(P::classes.min) + " to " + n(P::classes.max)) +
           " classes, not " + n(classes);
}

// f(net) with net (heap-held) P's network for `classes`; std::invalid_argument when P's rule
// does not take that many.
template <preset P, class F>
void visit_network(std::size_t classes, F&& f) {
    if (const auto problem = class_count_problem<P>(classes); !problem.empty()) throw std::invalid_argument(problem);
    detail::visit_classes<P>(classes, f, std::make_index_sequence<P::classes.max - P::classes.min + 1>{});
}

// f(P{}, net) for the preset of L called `name` and its network for `classes`.
template <class L, class F>
void visit_network(std::string_view name, std::size_t classes, F&& f) {
    visit<L>(name, [&](auto p) {
        using P = decltype(p);
        visit_network<P>(classes, [&](auto& net) { f(p, net); });
    });
}

}  // namespace flowpic::presets
