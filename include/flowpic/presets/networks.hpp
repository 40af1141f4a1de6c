#pragma once
// A preset's network: network_t<P, C>, checked against the preset's pictures, and the networks of
// presets found by name at run time (a model file's header, a --preset option).
//
//   presets::visit_network<P>(classes, [](auto& net) { ... });              // P's network for `classes`
//   presets::visit_network("mini_flowpic", 5, [](auto preset, auto& net) { ... });

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "flowpic/core/error.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/presets/list.hpp"
#include "flowpic/presets/preset.hpp"

namespace flowpic::presets {

// A preset whose network takes its pictures: one static_assert per broken rule.
template <class P>
consteval bool check() {
    static_assert(preset<P>, "flowpic::presets: a preset needs name, window, flow_key, picture, network<C>, init, "
                             "default_batch and classes (see flowpic/presets/preset.hpp)");
    static_assert(requires { typename P::template network<P::classes.min>; },
                  "flowpic::presets: the preset has no network<C> for its classes");
    using H = typename P::picture;
    using N = typename P::template network<P::classes.min>;
    static_assert(N::input_shape.c == H::channel_count && N::input_shape.h == H::height && N::input_shape.w == H::width,
                  "flowpic::presets: the preset's network does not take the preset's pictures "
                  "(channels x height x width differ)");
    static_assert(P::classes.min >= 1 && P::classes.min <= P::classes.max,
                  "flowpic::presets: classes needs 1 <= min <= max");
    static_assert(P::default_batch > 0, "flowpic::presets: default_batch must be positive");
    return true;
}

namespace detail {
template <class P, std::size_t Classes>
struct network_of {
    static_assert(check<P>());
    using type = typename P::template network<Classes>;
};
}  // namespace detail

// The network of preset P for C classes.
template <preset P, std::size_t Classes>
using network_t = typename detail::network_of<P, Classes>::type;

namespace detail {
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

// A header that no network of L can hold (a forged or foreign file whose checksum is right): a
// preset not in L, or a class count its network does not take, is a format_error naming the
// file and the field.
template <class L = builtin>
void check_header(const nn::model_info& info, const std::string& file) {
    if (!presets::contains<L>(info.preset))
        throw format_error(location{file, nn::model_info::preset_offset},
                           "preset field: unknown preset '" + info.preset + "' (known: " + names_list<L>() + ")");
    presets::visit<L>(info.preset, [&](auto p) {
        if (const auto problem = class_count_problem<decltype(p)>(info.classes.size()); !problem.empty())
            throw format_error(location{file, info.classes_offset}, "class count field: " + problem);
    });
}

// The same over the built-in presets.
template <class F>
void visit_network(std::string_view name, std::size_t classes, F&& f) {
    visit_network<builtin>(name, classes, std::forward<F>(f));
}

}  // namespace flowpic::presets
