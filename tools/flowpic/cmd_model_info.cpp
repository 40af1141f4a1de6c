// flowpic model-info [MODEL]: what a model file holds and how it is applied: preset, format
// version, classes, parameters and the recipe (windows, grouping, label map, score thresholds).
// Without MODEL: the bundled model.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "default_model.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/presets/recipe.hpp"
#include "model_loading.hpp"
#include "text.hpp"

namespace flowpic::tool {

namespace {

std::string seconds_text(std::int64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", double(ns) / 1e9);
    return buf;
}

void model_info(const std::string& path) {
    std::vector<unsigned char> bytes = path.empty() ? default_model_bytes() : nn::read_model_file(path);
    const std::string name = path.empty() ? std::string(default_model_name) : path;
    if (bytes.empty()) throw std::runtime_error("this flowpic was built without a bundled model: pass MODEL");
    const presets::model m = read_model_noting(std::move(bytes), name);
    const auto& r = m.recipe;
    std::printf("model       %s (format version %u)\n", m.name.c_str(), m.info.version);
    std::printf("preset      %s\n", m.info.preset.c_str());
    std::string classes;
    for (const auto& c : m.info.classes) classes += (classes.empty() ? "" : ", ") + c;
    std::printf("classes     %zu: %s\n", m.info.classes.size(), classes.c_str());
    std::size_t params = 0;
    presets::visit_model(m, [&](auto, auto& net) { params = net.params().size(); });
    std::printf("parameters  %zu\n", params);
    if (r.window) {
        const auto& w = *r.window;
        std::printf("windows     %s every %s, %s, at least %u packets%s%s\n", seconds_text(w.length_ns).c_str(),
                    seconds_text(w.stride()).c_str(), w.first_only ? "the first of each flow only" : "every window",
                    w.min_packets, w.min_span_ns ? (", span >= " + seconds_text(w.min_span_ns)).c_str() : "",
                    w.ends == blocks::end_rule::complete ? ", complete windows"
                    : w.ends == blocks::end_rule::authors ? ", the authors' end rule"
                                                         : ", partial windows too");
    } else {
        std::printf("windows     not recorded (the preset's)\n");
    }
    std::printf("grouping    %s\n", r.flows ? std::string(presets::name(*r.flows)).c_str() : "not recorded (the preset's)");
    if (r.label_map.empty()) {
        std::printf("label map   none\n");
    } else {
        std::size_t lines = 0;
        for (char c : r.label_map) lines += c == '\n';
        std::printf("label map   %zu lines\n", lines + (r.label_map.back() != '\n'));
    }
    if (r.min_score.empty()) {
        std::printf("min score   none\n");
    } else {
        std::printf("min score  ");
        for (std::size_t c = 0; c < r.min_score.size(); ++c)
            std::printf(" %s=%.4f", m.info.classes.at(c).c_str(), double(r.min_score[c]));
        std::printf("\n");
    }
    for (const auto& f : m.info.recipe)
        if (f.key != "grouping" && f.key != "label_map" && f.key != "min_score" && !f.key.starts_with("window."))
            std::printf("field       %s = %s (unknown to this flowpic)\n", f.key.c_str(), f.value.c_str());
}

void add_model_info_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("model-info", "A model file's preset, classes and recipe (how it is applied)");
    auto path = std::make_shared<std::string>();
    cmd->add_option("MODEL", *path, "model file (default: the bundled model)")->check(CLI::ExistingFile);
    cmd->callback([path] { model_info(*path); });
}

const registrar reg_model_info{"model-info", 63, &add_model_info_command};

}  // namespace

}  // namespace flowpic::tool
