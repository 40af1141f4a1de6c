// flowpic classify CAPTURE | --interface IF [--model MODEL] [--decision block|majority|mean]:
// one CSV row per block as it completes (or per flow when it ends, with a per-flow decision):
//   src,dst,sport,dport,proto,block_start,label,score
// Without --model the tool's bundled default model classifies (data/models/, embedded at build).
// Blocks are cut as the model's recipe says (its windows; --all-windows, --min-packets override);
// a result under its class's score threshold (the model's, or --min-score) is labelled unknown.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include "commands.hpp"
#include "default_model.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/source/any_source.hpp"
#include "input.hpp"
#include "model_loading.hpp"
#include "options.hpp"
#include "table_warnings.hpp"
#include "text.hpp"

namespace flowpic::tool {

namespace {

inline constexpr const char* classify_header = "src,dst,sport,dport,proto,block_start,label,score";

struct classify_options {
    input_options in;
    std::string model;
    std::string decision = "block";
    std::size_t batch = 0;
    int threads = 0;
    flow_limit_options flow_limits;
    bool stats = false;
    bool all_windows = false;
    std::optional<std::uint32_t> min_packets;
    std::optional<float> min_score;
};

template <class Decision>
void classify_with(const presets::model& m, const classify_options& o) {
    // a single sigmoid output names its two classes by the model's two names, or "not X" and X
    std::vector<std::string> classes = m.info.classes;
    if (classes.size() == 1) classes.insert(classes.begin(), "not " + classes.front());
    const auto adjust = [&](auto& po) {
        if (o.batch > 0) po.batch = o.batch;
        if (o.in.live()) po.batch = 1;  // report each block as soon as its window closes
        po.limits = o.flow_limits.table_limits();
        if (o.all_windows) po.window = presets::every_window(*po.window);
        if (o.min_packets) po.window->min_packets = *o.min_packets;
        po.min_score = min_scores(m.recipe, o.min_score, m.info.classes.size());
    };
    presets::visit_classifier<source::any_source, backend::tbb, Decision>(m, [&](auto& pipe) {
        const bool live = o.in.live();
        std::puts(classify_header);
        const auto t0 = std::chrono::steady_clock::now();
        const auto stats = with_input(o.in, [&](auto& src) {
            source::any_source any(src);
            auto emit = [&](const classification& r) {
                std::string row;
                if (!(r.key == flow_key{})) {
                    row = r.key.src.str() + ',' + r.key.dst.str() + ',' + std::to_string(r.key.sport) + ',' +
                          std::to_string(r.key.dport) + ',' + std::to_string(r.key.proto);
                } else {
                    row = ",,0,0,0";  // all flows of the input in one stream (network_stats)
                }
                char tail[64];
                std::snprintf(tail, sizeof tail, ",%.6f", double(r.score));
                row += ',' + epoch_seconds(r.block_start_ns) + ',' +
                       (r.unknown ? std::string("unknown") : csv_field(classes.at(r.label))) + tail;
                std::puts(row.c_str());
                if (live) std::fflush(stdout);
            };
            return pipe.run(any, emit);
        });
        std::fflush(stdout);
        warn_about(o.in.live() ? o.in.interface_name : o.in.capture, counts_of(stats));
        if (o.stats) {
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
            std::fprintf(stderr, "flowpic classify: packets=%llu flows=%llu blocks=%llu results=%llu seconds=%.3f "
                         "packets_per_s=%.0f blocks_per_s=%.1f batch=%zu backwards=%llu late=%llu "
                         "evicted_max_flows=%llu evicted_max_packets=%llu evicted_windows=%llu\n",
                         u(stats.packets), u(stats.flows), u(stats.blocks), u(stats.results), s,
                         double(stats.packets) / s, double(stats.blocks) / s, pipe.settings().batch, u(stats.backwards),
                         u(stats.late_packets), u(stats.evicted_max_flows), u(stats.evicted_max_packets),
                         u(stats.evicted_windows));
        }
    }, adjust);
}

void classify(const classify_options& o) {
    std::vector<unsigned char> bytes;
    std::string name = o.model;
    if (o.model.empty()) {
        bytes = default_model_bytes();
        name = default_model_name;
        if (bytes.empty()) throw std::runtime_error("this flowpic was built without a bundled model: pass --model MODEL");
    } else {
        bytes = nn::read_model_file(o.model);
    }
    const presets::model m = read_model_noting(std::move(bytes), name);
    if (o.decision == "block") classify_with<decision::per_block>(m, o);
    else if (o.decision == "majority") classify_with<decision::majority_vote>(m, o);
    else classify_with<decision::mean_probability>(m, o);
}

void add_classify_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("classify", "Classify the blocks (or flows) of a capture or a live interface: CSV " +
                                                   std::string(classify_header));
    auto o = std::make_shared<classify_options>();
    add_input_options(*cmd, o->in);
    cmd->add_option("--model", o->model, "model file (default: the bundled model, " + std::string(default_model_name) + ")")
        ->check(CLI::ExistingFile);
    cmd->add_option("--decision", o->decision,
                    "block: a row per block as it completes; majority or mean: a row per flow when it ends, "
                    "by majority vote or mean probability over its blocks")
        ->check(CLI::IsMember({"block", "majority", "mean"}))
        ->capture_default_str();
    cmd->add_option("--batch", o->batch, "blocks per network call (default: 32, fewer for large pictures; live: 1)");
    add_threads_option(*cmd, o->threads);
    add_flow_limit_options(*cmd, o->flow_limits);
    cmd->add_flag("--all-windows", o->all_windows,
                  "every complete window of each flow, not only the first (mini_flowpic: the first 15 s) "
                  "(default: the windows the model was trained on)");
    cmd->add_option("--min-packets", o->min_packets,
                    "classify blocks with at least this many packets (default: as the model was trained)");
    add_min_score_option(*cmd, o->min_score);
    cmd->add_flag("--stats", o->stats,
                  "print packets/s and blocks/s, and the counts of packets out of time order and of evictions, "
                  "to stderr at the end");
    cmd->callback([o] {
        const auto limit = thread_limit(o->threads);
        classify(*o);
    });
}

const registrar reg_classify{"classify", 70, &add_classify_command};

}  // namespace

}  // namespace flowpic::tool
