#pragma once
// How the tool's commands read a model file: header and recipe checked (presets/model.hpp), a
// note on stderr for what an older file does not record, and the options that override a recipe.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "flowpic/core/binary_io.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/presets/recipe.hpp"

namespace flowpic::tool {

// Says once what the model does not record (a version-1 file: windows, grouping, label map, thresholds).
inline void note_missing_recipe(const presets::model& m) {
    const std::string miss = presets::what_is_missing(m.info, m.recipe);
    if (!miss.empty())
        std::fprintf(stderr, "flowpic: note: %s: %s; applying the preset's defaults\n", m.name.c_str(), miss.c_str());
}

inline presets::model read_model_noting(std::vector<std::uint8_t> bytes, std::string name) {
    presets::model m = presets::read_model(std::move(bytes), std::move(name));
    note_missing_recipe(m);
    return m;
}

inline presets::model read_model_noting(const std::string& path) {
    return read_model_noting(nn::read_model_file(path), path);
}

inline void add_min_score_option(CLI::App& cmd, std::optional<float>& min_score) {
    cmd.add_option("--min-score", min_score,
                   "label a result unknown when the probability of its class is under this, for every class "
                   "(default: the model's calibrated per-class thresholds; 0: never unknown)")
        ->check(CLI::Range(0.0, 1.0));
}

// --min-score X: X for every class (0: no thresholds); otherwise the recipe's.
inline std::vector<float> min_scores(const presets::recipe& r, std::optional<float> all, std::size_t classes) {
    if (!all) return r.min_score;
    if (*all <= 0.0f) return {};
    return std::vector<float>(classes, *all);
}

}  // namespace flowpic::tool
