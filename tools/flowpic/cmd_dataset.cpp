// flowpic dataset [--data DIR]... [--labels FILE]... [--map FILE] --preset NAME --out FILE
//                 [--split 0.7,0.15,0.15] [--seed N] [--where KEY=VALUE ...] [--all-windows]
//                 [--min-packets N] [-f EXPR] [--threads N] [CAPTURE... | -r FILE... [EXPR]]:
// labelled pictures of every block of class-per-directory trees and of the flows of captures that
// label files name, held sparse with their packets, split by capture file
// (train/build_dataset.hpp, train/split.hpp), written as a dataset file (train/dataset_file.hpp,
// docs/formats.md). A summary of samples per class and split goes to stderr. Under an MPI
// launcher the files are sharded over the ranks and rank 0 writes the same file (docs/distributed.md).
// A BPF filter (-f, or tcpdump's expression after -r FILE) applies to every capture read, trees' too.
// Files are read on --threads threads at once and merged in file order: the same file for any count.
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "dataset_options.hpp"
#include "distributed.hpp"
#include "flowpic/labels/label_file.hpp"
#include "flowpic/labels/label_map.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/split.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace flowpic::tool {

namespace {

struct dataset_options {
    std::string preset{presets::mini_flowpic::name};
    std::vector<std::string> data, labels, captures;
    capture_words words;
    std::string map, out, split = "0.7,0.15,0.15";
    std::uint64_t seed = 1;
    tree_options tree;
    bool quiet = false;
    int threads = 0;
};

void print_summary(const train::picture_set& set, const std::string& out) {
    std::fprintf(stderr, "flowpic: %s: %zu samples of %zu classes from %zu captures (preset %s, split seed %llu)\n",
                 out.c_str(), set.size(), set.classes.size(), set.captures.size(), set.preset.c_str(),
                 static_cast<unsigned long long>(set.seed));
    std::fprintf(stderr, "%-16s %26s %30s\n", "", "captures", "samples");
    std::fprintf(stderr, "%-16s %6s %6s %6s %6s %7s %7s %7s %7s\n", "class", "train", "val", "test", "all", "train",
                 "val", "test", "all");
    std::vector<std::size_t> total(8, 0);
    for (std::uint32_t c = 0; c < set.classes.size(); ++c) {
        std::size_t caps[3] = {0, 0, 0}, samples[3] = {0, 0, 0};
        for (const auto& cap : set.captures)
            if (cap.label == c) ++caps[static_cast<int>(cap.part)];
        for (const auto& s : set.samples)
            if (s.label == c) ++samples[static_cast<int>(s.part)];
        const std::size_t row[8] = {caps[0],    caps[1],    caps[2],    caps[0] + caps[1] + caps[2],
                                    samples[0], samples[1], samples[2], samples[0] + samples[1] + samples[2]};
        for (int i = 0; i < 8; ++i) total[i] += row[i];
        std::fprintf(stderr, "%-16.16s %6zu %6zu %6zu %6zu %7zu %7zu %7zu %7zu\n", set.classes[c].c_str(), row[0], row[1],
                     row[2], row[3], row[4], row[5], row[6], row[7]);
    }
    std::fprintf(stderr, "%-16s %6zu %6zu %6zu %6zu %7zu %7zu %7zu %7zu\n", "total", total[0], total[1], total[2],
                 total[3], total[4], total[5], total[6], total[7]);
    std::size_t files = 0;  // capture files: a labelled file holds one capture per class
    {
        std::vector<std::string> names;
        for (const auto& cap : set.captures) names.push_back(cap.name);
        std::sort(names.begin(), names.end());
        files = static_cast<std::size_t>(std::unique(names.begin(), names.end()) - names.begin());
    }
    if (files != set.captures.size())
        std::fprintf(stderr, "flowpic: %zu capture files (a file with flows of several classes counts once per class above; "
                             "each file is on one side of the split)\n", files);
    for (std::uint32_t c = 0; c < set.classes.size(); ++c)
        if (set.class_counts(train::split::train)[c] == 0)
            std::fprintf(stderr, "flowpic: warning: class %s has no training sample\n", set.classes[c].c_str());
}

void add_dataset_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("dataset", "Labelled pictures of class-per-directory trees and of labelled captures, "
                                              "split by capture file, as a dataset file for train and eval");
    auto o = std::make_shared<dataset_options>();
    cmd->add_option("--data", o->data, "tree DIR/<class>/<captures or CSV files>; its classes are the first-level "
                                       "directory names (repeatable)")
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--labels", o->labels, "label file (flowpic label: one row per connection) naming the flows of "
                                           "the CAPTUREs; flows without a row, unnamed or `ignore` are left out "
                                           "(repeatable)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--map", o->map, "label map (kind,name,class): each row's class from its application and category "
                                     "instead of its class column")
        ->check(CLI::ExistingFile);
    auto* group = cmd->add_option_group("captures", "CAPTUREs or -r, with --labels");
    add_capture_words(*cmd, *group, o->words,
                      "captures (files or directories, walked like a class directory) that the label files describe; "
                      "- reads standard input",
                      "a capture (or directory) to read, as tcpdump's -r (the same as CAPTURE; several: -r FILE for each)");
    add_preset_option(*cmd, o->preset);
    cmd->add_option("--out", o->out, "dataset file to write (.fpd)")->required();
    cmd->add_option("--split", o->split, "fractions of each class's captures for train,validation,test")
        ->capture_default_str();
    add_seed_option(*cmd, o->seed, "seed of the split");
    add_tree_options(*cmd, o->tree);
    add_quiet_flag(*cmd, o->quiet, "no progress line on stderr (the summary stays)");
    add_threads_option(*cmd, o->threads);
    cmd->callback([o] {
        o->captures = resolve_captures(o->words, false, false, 0, false);
        train::build_options b = make_build_options(o->preset, o->tree);
        b.filter = o->words.filter;
        try {
            b.split.fractions = train::parse_fractions(o->split);
        } catch (const std::invalid_argument& e) {
            throw CLI::ValidationError("--split", e.what());
        }
        b.split.seed = o->seed;
        if (o->labels.empty() != o->captures.empty())
            throw CLI::ValidationError("dataset", o->labels.empty() ? "captures need label files (--labels FILE)"
                                                                    : "--labels needs the captures it describes");
        if (o->data.empty() && o->labels.empty())
            throw CLI::ValidationError("dataset", "give a tree (--data DIR) or label files (--labels FILE) with captures");
        if (!o->map.empty() && o->labels.empty()) throw CLI::ValidationError("--map", "--map re-maps the rows of --labels");
        if (!o->labels.empty()) {
            train::labelled_captures l;
            std::vector<labels::flow_label> rows;
            for (const auto& f : o->labels) {
                auto r = labels::read_label_file(f);
                rows.insert(rows.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
            }
            l.rows = labels::label_index(std::move(rows));
            l.captures = o->captures;
            if (!o->map.empty()) l.map = labels::label_map::load(o->map);
            l.files_name.clear();
            for (const auto& f : o->labels) l.files_name += (l.files_name.empty() ? "" : ", ") + f;
            b.labelled = std::move(l);
        }
        const auto limit = thread_limit(o->threads);
        train::build_report report;
        auto& comm = communicator();  // several ranks: files sharded, rank 0 merges and writes
        if (comm.size() > 1 && std::find(o->captures.begin(), o->captures.end(), "-") != o->captures.end())
            throw CLI::ValidationError("CAPTURE", "standard input (-) is one process's: under an MPI launcher, name files");
        progress_line bar("flowpic dataset", "files", 0, o->quiet || comm.rank() != 0);
        if (bar.enabled()) b.on_file = [&](std::size_t, std::size_t total) {
            bar.set_total(total);
            bar.step();
        };
        const train::picture_set set = train::build_dataset(o->data, b, &report, comm);
        bar.clear();
        if (comm.rank() != 0) return;
        report_skipped(report);
        if (b.labelled) {
            std::fprintf(stderr, "flowpic: labelled flows: %zu kept, %zu without a row, %zu unnamed, %zu ignored",
                         report.flows_labelled, report.flows_without_row, report.flows_unnamed, report.flows_ignored);
            if (!b.classes.empty()) std::fprintf(stderr, ", %zu of other classes", report.flows_unlisted);
            std::fprintf(stderr, "\n");
        }
        const std::string where = o->data.empty() ? o->labels.front() : o->data.front();
        if (set.samples.empty()) throw format_error(location{where}, "no blocks: the dataset would be empty");
        train::write_dataset(o->out, set);
        print_summary(set, o->out);
    });
}

const registrar reg_dataset{"dataset", 70, &add_dataset_command};

}  // namespace

}  // namespace flowpic::tool
