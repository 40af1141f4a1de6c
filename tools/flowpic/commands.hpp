#pragma once
// Subcommands of the flowpic tool. Each lives in its own translation unit and registers itself:
//   static const flowpic::tool::registrar reg{"flows", 10, &add_flows_command};

#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace flowpic::tool {

struct command_entry {
    std::string name;
    int order;  // position in --help
    void (*add)(CLI::App&);
};

inline std::vector<command_entry>& command_registry() {
    static std::vector<command_entry> r;
    return r;
}

struct registrar {
    registrar(std::string name, int order, void (*add)(CLI::App&)) {
        command_registry().push_back({std::move(name), order, add});
    }
};

inline void add_all_commands(CLI::App& app) {
    auto r = command_registry();
    std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
    for (const auto& c : r) c.add(app);
}

}  // namespace flowpic::tool
