// flowpic eval --model MODEL --data FILE|DIR [--split all|train|validation|test] [--json] [--png FILE] [--svg FILE]
//              [--pictures X.npy] [--labels Y.npy] [--predictions P.npy] [--where ...] [--all-windows]
//              [--min-packets N] [--batch N] [--threads N]:
// accuracy, top-2 accuracy, per-class precision/recall/F1 and the confusion matrix of a model on
// a dataset file's split (test by default) or on every block of a class-per-directory tree, made
// into pictures with the model's preset. Dataset classes are matched to the model's by name.
// --json prints one object: accuracy, samples, per_class {name: precision, recall, f1, support},
// confusion (rows = true class, columns = predicted, in the model's class order), classes, top2,
// macro_f1, model, data, preset, split, and with score thresholds (the model's, or --min-score)
// min_score, unknown (samples under their class's threshold) and accuracy_known (of the others).
// A tree is cut with the windows the model was trained on (--all-windows, --min-packets adjust).
// Under an MPI launcher a tree's files are sharded over the ranks (as `flowpic dataset`), a dataset
// file's samples likewise; rank 0 prints the report one process prints (docs/distributed.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include "commands.hpp"
#include "dataset_options.hpp"
#include "distributed.hpp"
#include "flowpic/dist/collectives.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/train/calibration.hpp"
#include "flowpic/train/confusion_png.hpp"
#include "flowpic/train/confusion_svg.hpp"
#include "flowpic/train/metrics.hpp"
#include "flowpic/train/set_dataset.hpp"
#include "flowpic/train/trainer.hpp"
#include "json_writer.hpp"
#include "model_loading.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace flowpic::tool {

namespace {

struct eval_options {
    std::string model, data, split, png, svg, pictures, labels, predictions;
    bool json = false;
    bool quiet = false;
    std::optional<float> min_score;
    std::size_t batch = 64;
    int threads = 0;
    tree_options tree;
};

std::string report_json(const train::classification_report& r, const std::vector<std::string>& classes,
                        const eval_options& o, const std::string& preset, const std::string& split,
                        const std::vector<float>& min_score, const std::optional<train::unknown_effect>& unknown) {
    std::string j = "{\n";
    j += "  \"model\": " + json_string(o.model) + ",\n";
    j += "  \"data\": " + json_string(o.data) + ",\n";
    j += "  \"preset\": " + json_string(preset) + ",\n";
    j += "  \"split\": " + json_string(split) + ",\n";
    j += "  \"samples\": " + std::to_string(r.samples) + ",\n";
    j += "  \"accuracy\": " + json_number(r.accuracy) + ",\n";
    j += "  \"top2\": " + json_number(r.top2) + ",\n";
    j += "  \"macro_f1\": " + json_number(r.macro_f1) + ",\n";
    if (unknown) {  // the score thresholds: results labelled unknown, accuracy of the others
        j += "  \"min_score\": [";
        for (std::size_t c = 0; c < min_score.size(); ++c) j += (c ? ", " : "") + json_number(min_score[c]);
        j += "],\n  \"unknown\": " + std::to_string(unknown->unknown) + ",\n";
        j += "  \"accuracy_known\": " + json_number(unknown->kept_accuracy()) + ",\n";
    }
    j += "  \"classes\": [";
    for (std::size_t c = 0; c < classes.size(); ++c) j += (c ? ", " : "") + json_string(classes[c]);
    j += "],\n  \"per_class\": {\n";
    for (std::size_t c = 0; c < r.classes; ++c) {
        std::size_t support = 0;
        for (std::size_t k = 0; k < r.classes; ++k) support += r.at(c, k);
        j += "    " + json_string(classes[c]) + ": {\"precision\": " + json_number(r.precision[c]) +
             ", \"recall\": " + json_number(r.recall[c]) + ", \"f1\": " + json_number(r.f1[c]) +
             ", \"support\": " + std::to_string(support) + "}" + (c + 1 < r.classes ? ",\n" : "\n");
    }
    j += "  },\n  \"confusion\": [";
    for (std::size_t t = 0; t < r.classes; ++t) {
        j += t ? ",\n                [" : "[";
        for (std::size_t p = 0; p < r.classes; ++p) j += (p ? ", " : "") + std::to_string(r.at(t, p));
        j += "]";
    }
    return j + "]\n}\n";
}

void run_eval(const eval_options& o) {
    const presets::model model = read_model_noting(o.model);
    const nn::model_info& info = model.info;
    const bool tree = std::filesystem::is_directory(o.data);
    auto& comm = communicator();
    train::picture_set set;
    std::string split_name = o.split.empty() ? (tree ? "all" : "test") : o.split;
    if (tree) {
        if (!o.split.empty() && o.split != "all")
            throw CLI::ValidationError("--split", "a directory is evaluated whole; --split applies to dataset files");
        train::build_report report;
        try {
            auto b = make_build_options(info.preset, o.tree, model.recipe.window);
            progress_line bar("flowpic eval", "files", 0, o.quiet || comm.rank() != 0);
            if (bar.enabled()) b.on_file = [&](std::size_t, std::size_t total) {
                bar.set_total(total);
                bar.step();
            };
            set = train::build_dataset(std::vector<std::string>{o.data}, b, &report, comm);
        } catch (const std::invalid_argument& e) {  // a model of a preset without pictures
            throw format_error(location{o.model}, e.what());
        }
        if (comm.rank() != 0) return;  // rank 0 holds the merged set
        report_skipped(report);
    } else {
        if (o.tree.all_windows || o.tree.min_packets)
            throw CLI::ValidationError("--all-windows/--min-packets", "apply to a directory, not to a dataset file");
        train::dataset_read_options ro;
        ro.preset = info.preset;
        set = train::read_dataset(o.data, ro);
    }
    // dataset classes -> model classes, by name
    std::vector<std::int32_t> map;
    for (const auto& c : set.classes) {
        const auto it = std::find(info.classes.begin(), info.classes.end(), c);
        if (it == info.classes.end()) {
            std::string known;
            for (const auto& k : info.classes) known += " " + k;
            throw format_error(location{o.data}, "class '" + c + "' is not a class of model " + o.model + " (its classes:" +
                                                     known + ")");
        }
        map.push_back(static_cast<std::int32_t>(it - info.classes.begin()));
    }
    std::optional<train::split> part;
    if (split_name != "all") part = train::parse_split(split_name);
    std::vector<std::size_t> index = set.indices(part);
    if (!tree && !o.tree.where.empty()) {  // a dataset file keeps each capture's VPN flag, not its application
        std::vector<std::size_t> kept;
        for (const auto& text : o.tree.where) {
            const auto w = train::parse_where(text);
            if (w.key != "vpn") throw CLI::ValidationError("--where", "a dataset file is selected by vpn=no|yes only");
        }
        for (auto i : index) {
            const int vpn = set.captures[set.samples[i].capture].vpn;
            bool ok = true;
            for (const auto& text : o.tree.where) ok &= vpn == (train::parse_where(text).value == "yes" ? 1 : 0);
            if (ok) kept.push_back(i);
        }
        index.swap(kept);
    }
    const train::set_dataset data(set, std::move(index), map);
    if (data.size() == 0)
        throw format_error(location{o.data}, "no samples to evaluate" + (tree ? std::string() : " in split " + split_name));

    std::vector<float> probs;
    if (!tree && comm.size() > 1) {
        // a contiguous share of the samples per rank, the outputs gathered in rank order
        const auto ranks = static_cast<std::size_t>(comm.size()), me = static_cast<std::size_t>(comm.rank());
        const std::size_t n = data.size(), lo = n * me / ranks, hi = n * (me + 1) / ranks;
        std::vector<std::size_t> share;
        for (std::size_t i = lo; i < hi; ++i) share.push_back(data.sample(i));
        const train::set_dataset shard(set, std::move(share), map);
        std::vector<float> mine;
        if (shard.size()) presets::visit_model(model, [&](auto, auto& net) { mine = train::predict_all(net, shard, o.batch); });
        probs = dist::all_gather<float>(comm, mine);
        if (comm.rank() != 0) return;
    } else {
        progress_line bar("flowpic eval", "samples", data.size(), o.quiet);
        std::function<void(std::size_t, std::size_t)> step;
        std::size_t shown = 0;
        if (bar.enabled()) step = [&](std::size_t done, std::size_t) {
            bar.step(done - shown);
            shown = done;
        };
        presets::visit_model(model, [&](auto, auto& net) {
            probs = train::predict_all(net, data, o.batch, backend::default_backend{}, step);
        });
    }
    std::vector<std::int32_t> labels(data.size());
    for (std::size_t i = 0; i < data.size(); ++i) labels[i] = data.label(i);
    const std::size_t outputs = probs.size() / data.size();
    const auto r = train::classification_metrics(probs, labels, outputs);
    const std::vector<float> min_score = min_scores(model.recipe, o.min_score, info.classes.size());
    std::optional<train::unknown_effect> unknown;
    if (!min_score.empty()) unknown = train::effect_of(probs, labels, outputs, min_score);

    if (!o.predictions.empty()) npy::save(o.predictions, {data.size(), outputs}, probs.data());
    if (!o.labels.empty()) {
        const std::vector<float> l(labels.begin(), labels.end());
        npy::save(o.labels, {data.size()}, l.data());
    }
    if (!o.pictures.empty()) {
        const std::size_t n = data.sample_size();
        std::vector<float> x(data.size() * n);
        for (std::size_t i = 0; i < data.size(); ++i) data.fill(i, x.data() + i * n);
        npy::save(o.pictures, {data.size(), set.pictures.channels(), set.pictures.height(), set.pictures.width()},
                      x.data());
    }
    if (!o.png.empty()) train::write_confusion_png(o.png, r);
    if (!o.svg.empty())
        train::write_confusion_svg(o.svg, r, info.classes,
                                   "flowpic eval: " + (o.model.empty() ? std::string("the bundled model") : std::filesystem::path(o.model).filename().string()) + " on " +
                                       std::filesystem::path(o.data).filename().string() + " (" + split_name + ")");
    if (o.json) {
        std::fputs(report_json(r, info.classes, o, info.preset, split_name, min_score, unknown).c_str(), stdout);
    } else {
        std::string what = split_name;
        for (const auto& w : o.tree.where) what += ", " + w;
        std::printf("%s on %s (%s)\n%s", o.model.c_str(), o.data.c_str(), what.c_str(),
                    train::format_report(r, info.classes).c_str());
        if (unknown) {
            std::string t;
            for (float v : min_score) {
                if (!t.empty()) t += ' ';
                t += json_number(v);
            }
            std::printf("min score per class %s: %zu of %zu samples unknown, accuracy %.4f on the other %zu\n",
                        t.c_str(), unknown->unknown, unknown->samples, unknown->kept_accuracy(),
                        unknown->samples - unknown->unknown);
        }
    }
}

void add_eval_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("eval", "Accuracy, per-class precision/recall/F1 and confusion matrix of a model "
                                           "on a dataset file or a class-per-directory tree");
    auto o = std::make_shared<eval_options>();
    add_model_option(*cmd, o->model, "model file (flowpic train)");
    cmd->add_option("--data", o->data, "dataset file (flowpic dataset), or a tree DIR/<class>/<files> made into "
                                       "pictures with the model's preset")
        ->required()
        ->check(CLI::ExistingPath);
    cmd->add_option("--split", o->split, "which samples of a dataset file: all, train, validation or test (default: test)")
        ->check(CLI::IsMember({"all", "train", "validation", "test"}));
    cmd->add_flag("--json", o->json, "print a JSON object instead of the text report");
    add_quiet_flag(*cmd, o->quiet);
    cmd->add_option("--png", o->png, "draw the confusion matrix (rows: true class, columns: predicted; "
                                     "share of the row in grey and percent)");
    cmd->add_option("--svg", o->svg, "draw the confusion matrix as an SVG figure with the class names, counts, "
                                     "shares of the row and each class's recall");
    cmd->add_option("--pictures", o->pictures, "write the evaluated pictures, float32 [N, channels, H, W] .npy");
    cmd->add_option("--labels", o->labels, "write their true labels (model class indices), float32 [N] .npy");
    cmd->add_option("--predictions", o->predictions, "write the model's outputs, float32 [N, outputs] .npy");
    add_tree_options(*cmd, o->tree);
    add_min_score_option(*cmd, o->min_score);
    add_batch_option(*cmd, o->batch)->capture_default_str();
    add_threads_option(*cmd, o->threads);
    cmd->callback([o] {
        const auto limit = thread_limit(o->threads);
        run_eval(*o);
    });
}

const registrar reg_eval{"eval", 74, &add_eval_command};

}  // namespace

}  // namespace flowpic::tool
