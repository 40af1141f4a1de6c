#pragma once
// Inputs cut short or damaged part way (source/damage.hpp): every subcommand that reads captures
// or CSV files reads them up to the damage, warns with the file and byte offset (or line) and
// ends with exit_damaged; --strict refuses them as an error (exit status 2) instead.

#include <cstddef>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "flowpic/source/damage.hpp"

namespace flowpic::tool {

// The exit status of a run that completed over damaged input (errors exit with 2).
inline constexpr int exit_damaged = 3;

inline std::size_t& damaged_inputs() {
    static std::size_t n = 0;
    return n;
}

inline void report_damage(const source::damage& d) {
    ++damaged_inputs();
    std::fprintf(stderr, "flowpic: warning: %s (the input ends or is damaged here: the records before it were read)\n",
                 d.str().c_str());
}

inline source::on_damage damage_mode(bool strict) noexcept {
    return strict ? source::on_damage::refuse : source::on_damage::stop;
}

inline CLI::Option* add_strict_flag(CLI::App& cmd, bool& strict) {
    return cmd.add_flag("--strict", strict,
                        "refuse an input cut short or damaged part way (exit status 2); by default its records "
                        "before the damage are read, the damage is reported and the exit status is 3");
}

}  // namespace flowpic::tool
