#pragma once
// Subcommands of the flowpic tool; each lives in its own translation unit.

#include <CLI/CLI.hpp>

namespace flowpic::tool {

void add_flows_command(CLI::App& app);
void add_blocks_command(CLI::App& app);

}  // namespace flowpic::tool
