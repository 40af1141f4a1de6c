#pragma once
// The presets flowpic ships (reference.md A.1-A.3): the list the tool and the dataset files know.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flowpic/presets/list.hpp"
#include "flowpic/presets/mini_flowpic.hpp"
#include "flowpic/presets/network_stats.hpp"
#include "flowpic/presets/shapira2019.hpp"

namespace flowpic::presets {

using builtin = list<shapira2019, mini_flowpic, mini_flowpic64, mini_flowpic1500, network_stats>;

// The functions of list.hpp over the built-in list (visit_network: presets/networks.hpp).
inline std::vector<std::string> names() { return names<builtin>(); }
inline std::string names_list() { return names_list<builtin>(); }
template <class F>
decltype(auto) visit(std::string_view name, F&& f) {
    return visit<builtin>(name, std::forward<F>(f));
}

}  // namespace flowpic::presets
