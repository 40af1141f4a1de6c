#pragma once
// The presets by name, for programs that learn which network to build at run time (a model
// file's header, a --preset option): visit_preset(name, classes, f) calls f with a network of
// that preset and class count, built on the stack of the call.
//
//   shapira2019       1500x1500, softmax over 2..max_preset_classes classes
//   mini_flowpic      32x32 LeNet-5, same class counts
//   mini_flowpic64    64x64 LeNet-5, same class counts
//   mini_flowpic1500  1500x1500 pictures of the first 15 s, the shapira2019 network (as tcbench
//                     uses the FlowPic network for its 1500 resolution)
//   network_stats     1500x1500, valid padding, one sigmoid output (classes: 1, or 2 names)

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "flowpic/nn/presets.hpp"

namespace flowpic::nn::presets {

inline constexpr std::size_t max_preset_classes = 10;

inline std::vector<std::string> preset_names() { return {"shapira2019", "mini_flowpic", "mini_flowpic64", "mini_flowpic1500", "network_stats"}; }

namespace detail {
// One out-of-line function per network keeps the optimiser from inlining all of them into one.
template <class Net, class F>
[[gnu::noinline]] void visit_one(F& f) {
    f(*std::make_unique<Net>());
}
template <template <std::size_t> class Net, class F, std::size_t... C>
void visit_classes(std::size_t classes, F& f, std::index_sequence<C...>) {
    const bool found = ((classes == C + 2 ? (visit_one<Net<C + 2>>(f), true) : false) || ...);
    if (!found)
        throw std::invalid_argument("--classes " + std::to_string(classes) + ": the presets are built for 2 to " +
                                    std::to_string(max_preset_classes) + " classes");
}
template <std::size_t C>
using shapira = shapira2019<C>;
template <std::size_t C>
using mini32 = mini_flowpic<C, 32>;
template <std::size_t C>
using mini64 = mini_flowpic<C, 64>;
}  // namespace detail

// f(net) with net a (heap-held) network of the preset; throws std::invalid_argument otherwise.
template <class F>
void visit_preset(const std::string& name, std::size_t classes, F&& f) {
    constexpr auto seq = std::make_index_sequence<max_preset_classes - 1>{};
    if (name == "shapira2019" || name == "mini_flowpic1500") detail::visit_classes<detail::shapira>(classes, f, seq);
    else if (name == "mini_flowpic") detail::visit_classes<detail::mini32>(classes, f, seq);
    else if (name == "mini_flowpic64") detail::visit_classes<detail::mini64>(classes, f, seq);
    else if (name == "network_stats") {
        if (classes != 1 && classes != 2)
            throw std::invalid_argument("network_stats has one sigmoid output: --classes 1 (or 2 class names)");
        detail::visit_one<network_stats<>>(f);
    } else {
        std::string all;
        for (const auto& n : preset_names()) all += " " + n;
        throw std::invalid_argument("unknown preset '" + name + "'; known:" + all);
    }
}

}  // namespace flowpic::nn::presets
