#pragma once
// Options shared by `flowpic dataset` and `flowpic eval DIR`: how a class-per-directory tree
// becomes samples.

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "flowpic/presets/builtin.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "options.hpp"
#include "table_warnings.hpp"

namespace flowpic::tool {

struct tree_options {
    std::vector<std::string> where;
    bool all_windows = false;
    std::optional<std::uint32_t> min_packets;
    bool strict = false;
    std::string tunnels = "outer";
};

inline void add_preset_option(CLI::App& cmd, std::string& preset) {
    add_picture_preset_option(cmd, preset, "picture preset (windows, flow grouping, picture)");
}

inline void add_tree_options(CLI::App& cmd, tree_options& o) {
    cmd.add_option("--where", o.where, "keep the blocks of lab flow records (.fpr) with KEY=VALUE: vpn=no|yes, "
                                       "application=NAME (repeatable; other files match no condition; for a "
                                       "dataset file, vpn only, by its captures' flags)");
    cmd.add_flag("--all-windows", o.all_windows, "every complete window of each flow, not only the first "
                                                 "(for the mini_flowpic presets: every 15 s of the flow)");
    cmd.add_option("--min-packets", o.min_packets, "keep blocks with at least this many packets (default: the preset's)");
    add_strict_flag(cmd, o.strict);
    add_tunnels_option(cmd, o.tunnels);
}

// `trained`: the windows of a model's recipe (eval), which --all-windows / --min-packets adjust.
inline train::build_options make_build_options(const std::string& preset, const tree_options& t,
                                               std::optional<blocks::window_spec> trained = std::nullopt) {
    train::build_options b;
    b.preset = preset;
    b.stop_at_damage = !t.strict;
    b.tunnels = tunnel_mode_of(t.tunnels);
    for (const auto& w : t.where) {
        try {
            b.where.push_back(train::parse_where(w));
        } catch (const std::invalid_argument& e) {
            throw CLI::ValidationError("--where", e.what());
        }
    }
    if (trained || t.all_windows || t.min_packets) {
        blocks::window_spec w = trained ? *trained : train::geometry_of(preset).window;
        if (t.all_windows) w = presets::every_window(w);
        if (t.min_packets) w.min_packets = *t.min_packets;
        b.window = w;
    }
    return b;
}

inline void report_skipped(const train::build_report& r) {
    for (const auto& d : r.damaged) report_damage(d);
    for (const auto& t : r.time_order) warn_about(t.file, table_counts{t.counts.backwards, t.counts.late_packets});
    if (r.skipped.empty()) return;
    std::fprintf(stderr, "flowpic: skipped %zu files that are no capture or supported CSV:\n", r.skipped.size());
    for (std::size_t i = 0; i < r.skipped.size() && i < 10; ++i) std::fprintf(stderr, "  %s\n", r.skipped[i].c_str());
    if (r.skipped.size() > 10) std::fprintf(stderr, "  ...\n");
}

}  // namespace flowpic::tool
