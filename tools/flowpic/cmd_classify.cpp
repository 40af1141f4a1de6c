// flowpic classify CAPTURE... | --interface IF [--model MODEL] [--decision block|majority|mean]:
// one CSV row per block as it completes (or per flow when it ends, with a per-flow decision):
//   src,dst,sport,dport,proto,block_start,label,score
// Several captures: the rows of each in the order given, under one header; on several threads the
// captures are classified at once (each on its own copy of the network), each capture's rows and
// warnings held until the captures before it are out, so the output is that of one thread. Under
// an MPI launcher the captures are sharded over the ranks and rank 0 prints the same rows
// (docs/distributed.md).
// --format jsonl: one JSON object per row instead; --probabilities: every class's probability
// (CSV: a column p_<class> per class after these; JSONL: a "probabilities" object).
// Without --model the tool's bundled default model classifies (data/models/, embedded at build).
// Blocks are cut as the model's recipe says (its windows; --all-windows, --min-packets override);
// a result under its class's score threshold (the model's, or --min-score) is labelled unknown.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include "classifiers.hpp"
#include "commands.hpp"
#include "default_model.hpp"
#include "distributed.hpp"
#include "flowpic/dist/collectives.hpp"
#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/presets/any_classifier.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/source/any_source.hpp"
#include "flowpic/source/damage.hpp"
#include "flowpic/source/tunnel_option.hpp"
#include "input.hpp"
#include "json_writer.hpp"
#include "model_loading.hpp"
#include "options.hpp"
#include "table_warnings.hpp"
#include "text.hpp"

namespace flowpic::tool {

namespace {

inline constexpr const char* classify_header = "src,dst,sport,dport,proto,block_start,label,score";

struct classify_options {
    input_options in;
    std::vector<std::string> captures;
    std::string model;
    std::string decision = "block";
    std::size_t batch = 0;
    int threads = 0;
    flow_limit_options flow_limits;
    bool stats = false;
    bool all_windows = false;
    std::optional<std::uint32_t> min_packets;
    std::optional<float> min_score;
    std::string format = "csv";
    bool probabilities = false;
    bool dense_input = false;
};

// Keeps a source's damage when the run over it ends, also by an exception.
template <class U>
struct damage_keeper {
    const U& until;
    std::optional<source::damage>& to;
    ~damage_keeper() {
        if (until.damage()) to = *until.damage();
    }
};

void classify_with(const presets::model& m, const classify_options& o) {
    // a single sigmoid output names its two classes by the model's two names, or "not X" and X
    std::vector<std::string> classes = m.info.classes;
    if (classes.size() == 1) classes.insert(classes.begin(), "not " + classes.front());
    presets::classifier_settings settings;
    settings.batch = o.batch;
    settings.live = o.in.live();  // report each block as soon as its window closes
    settings.limits = o.flow_limits.table_limits();
    settings.all_windows = o.all_windows;
    settings.min_packets = o.min_packets;
    settings.min_score = min_scores(m.recipe, o.min_score, m.info.classes.size());
    settings.dense_input = o.dense_input;
    auto& comm = communicator();
    auto classifier = programs::make_classifier(m, presets::decision_rule_of(o.decision), settings);
    const bool live = o.in.live();
    // one process prints rows as they come; several ranks collect each capture's rows
    const bool collect = !live && comm.size() > 1;
    std::string rows;
    std::string header = classify_header;
    if (o.probabilities)
        for (const auto& c : classes) header += ',' + csv_field("p_" + c);
    const table_format table(output_format_of(o.format), classify_header,
                             {"sport", "dport", "proto", "block_start", "score"});
    if (comm.rank() == 0 && !table.jsonl()) std::puts(header.c_str());
    const auto t0 = std::chrono::steady_clock::now();
    pipeline_stats stats;
    const auto format_row = [&](const classification& r) {
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
        if (table.jsonl()) {
            std::string members;
            if (o.probabilities) {
                members = "\"probabilities\": {";
                for (std::size_t c = 0; c < r.probabilities.size() && c < classes.size(); ++c) {
                    std::snprintf(tail, sizeof tail, "%.6f", double(r.probabilities[c]));
                    members += (c ? ", " : "") + json_string(classes[c]) + ": " + tail;
                }
                members += '}';
            }
            row = table.row(row, members);
        } else if (o.probabilities) {
            for (std::size_t c = 0; c < classes.size(); ++c) {
                std::snprintf(tail, sizeof tail, ",%.6f",
                              c < r.probabilities.size() ? double(r.probabilities[c]) : 0.0);
                row += tail;
            }
        }
        return row;
    };
    const auto classify_one = [&](const input_options& in) { return with_input(in, [&](auto& src) {
        source::any_source any(src);
        auto emit = [&](const classification& r) {
            const std::string row = format_row(r);
            if (collect) {
                rows += row;
                rows += '\n';
                return;
            }
            std::puts(row.c_str());
            if (live) std::fflush(stdout);
        };
        return classifier.run(any, emit);
    }); };
    const auto add = [&](const pipeline_stats& s) {
        stats.packets += s.packets;
        stats.flows += s.flows;
        stats.blocks += s.blocks;
        stats.results += s.results;
        stats.backwards += s.backwards;
        stats.late_packets += s.late_packets;
        stats.evicted_max_flows += s.evicted_max_flows;
        stats.evicted_max_packets += s.evicted_max_packets;
        stats.evicted_windows += s.evicted_windows;
        stats.evicted_packets += s.evicted_packets;
    };
    // what a rank sends of each capture: its row bytes, then its counters
    constexpr std::size_t head_size = 11;
    if (live) {
        add(classify_one(o.in));
    } else if (comm.size() == 1 && o.captures.size() > 1 && o.threads != 1) {
        // captures at once, each on its own pipeline and copy of the network; results printed in
        // capture order: its rows, its damage warning, its error (which ends the run as it would)
        struct result {
            std::string rows;
            pipeline_stats stats;
            std::optional<source::damage> damage;
            std::exception_ptr error;
        };
        namespace tbb = oneapi::tbb;
        std::size_t next = 0;
        const auto in_flight = static_cast<std::size_t>(std::max(2, tbb::this_task_arena::max_concurrency()));
        tbb::parallel_pipeline(
            in_flight,
            tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                                [&](tbb::flow_control& fc) -> std::size_t {
                                                    if (next == o.captures.size()) fc.stop();
                                                    return next < o.captures.size() ? next++ : 0;
                                                }) &
                tbb::make_filter<std::size_t, std::shared_ptr<result>>(
                    tbb::filter_mode::parallel,
                    [&](std::size_t i) {
                        auto res = std::make_shared<result>();
                        try {
                            auto mine = classifier.copy();  // its own network
                            const std::string& path = o.captures[i];
                            res->stats = source::visit_file(path, [&](auto& src) {
                                source::set_tunnels(src, tunnel_mode_of(o.in.tunnels));
                                source::set_filter(src, o.in.filter, path);
                                source::until_damage until(src, damage_mode(o.in.strict));
                                const damage_keeper<decltype(until)> keep{until, res->damage};
                                source::any_source any(until);
                                return mine.run(any, [&](const classification& r) {
                                    res->rows += format_row(r);
                                    res->rows += '\n';
                                });
                            });
                        } catch (...) {
                            res->error = std::current_exception();
                        }
                        return res;
                    }) &
                tbb::make_filter<std::shared_ptr<result>, void>(tbb::filter_mode::serial_in_order,
                                                                [&](const std::shared_ptr<result>& res) {
                                                                    std::fwrite(res->rows.data(), 1, res->rows.size(), stdout);
                                                                    if (res->damage) report_damage(*res->damage);
                                                                    if (res->error) std::rethrow_exception(res->error);
                                                                    add(res->stats);
                                                                }));
    } else {
        // capture i by rank i mod size; per capture: its rows, then its counters
        std::vector<std::byte> mine;
        for (std::size_t i = 0; i < o.captures.size(); ++i) {
            if (!dist::mine(i, comm.rank(), comm.size())) continue;
            input_options in = o.in;
            in.capture = o.captures[i];
            rows.clear();
            const auto s = classify_one(in);
            add(s);
            if (!collect) continue;
            const std::uint64_t head[head_size] = {rows.size(), s.packets, s.flows, s.blocks, s.results,
                                                    s.backwards, s.late_packets, s.evicted_max_flows,
                                                    s.evicted_max_packets, s.evicted_windows, s.evicted_packets};
            const auto* h = reinterpret_cast<const std::byte*>(head);
            mine.insert(mine.end(), h, h + sizeof head);
            const auto* b = reinterpret_cast<const std::byte*>(rows.data());
            mine.insert(mine.end(), b, b + rows.size());
        }
        if (collect) {
            std::vector<std::byte> all;
            std::vector<std::size_t> sizes;
            comm.gather(mine, all, sizes, 0);
            if (comm.rank() != 0) return;
            stats = {};
            std::vector<std::size_t> at(sizes.size(), 0);
            for (std::size_t r = 1; r < sizes.size(); ++r) at[r] = at[r - 1] + sizes[r - 1];
            for (std::size_t i = 0; i < o.captures.size(); ++i) {
                std::size_t& p = at[i % sizes.size()];
                std::uint64_t head[head_size];
                std::memcpy(head, all.data() + p, sizeof head);
                p += sizeof head;
                std::fwrite(all.data() + p, 1, static_cast<std::size_t>(head[0]), stdout);
                p += static_cast<std::size_t>(head[0]);
                pipeline_stats got;
                got.packets = head[1];
                got.flows = head[2];
                got.blocks = head[3];
                got.results = head[4];
                got.backwards = head[5];
                got.late_packets = head[6];
                got.evicted_max_flows = head[7];
                got.evicted_max_packets = head[8];
                got.evicted_windows = head[9];
                got.evicted_packets = head[10];
                add(got);
            }
        }
    }
    std::fflush(stdout);
    warn_about(o.in.live()                ? o.in.interface_name
               : o.captures.size() == 1 ? o.captures[0]
                                        : std::to_string(o.captures.size()) + " captures",
               counts_of(stats));
    if (o.stats && comm.rank() == 0) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
        std::fprintf(stderr, "flowpic classify: packets=%llu flows=%llu blocks=%llu results=%llu seconds=%.3f "
                     "packets_per_s=%.0f blocks_per_s=%.1f batch=%zu backwards=%llu late=%llu "
                     "evicted_max_flows=%llu evicted_max_packets=%llu evicted_windows=%llu\n",
                     u(stats.packets), u(stats.flows), u(stats.blocks), u(stats.results), s,
                     double(stats.packets) / s, double(stats.blocks) / s, classifier.batch(), u(stats.backwards),
                     u(stats.late_packets), u(stats.evicted_max_flows), u(stats.evicted_max_packets),
                     u(stats.evicted_windows));
        if (const auto& d = last_live_drops(); o.in.live() && d.valid)
            std::fprintf(stderr, "flowpic classify: kernel_received=%llu kernel_dropped=%llu interface_dropped=%llu\n",
                         d.received, d.dropped, d.interface_dropped);
    }
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
    classify_with(m, o);
}

void add_classify_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("classify", "Classify the blocks (or flows) of a capture or a live interface: CSV " +
                                                   std::string(classify_header));
    auto o = std::make_shared<classify_options>();
    {  // the shared input options, with several captures allowed
        auto* group = cmd->add_option_group("input", "exactly one of CAPTURE, -r or --interface");
        add_capture_words(*cmd, *group, o->in.words, std::string(capture_help) + " (several: their rows in this order)",
                          "a capture to read, as tcpdump's -r (the same as CAPTURE; several: -r FILE for each)", true);
        add_live_options(*cmd, *group, o->in);
    }
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
    add_format_option(*cmd, o->format);
    cmd->add_flag("--probabilities", o->probabilities,
                  "every class's probability (per-flow decisions: the mean over its blocks): CSV columns p_<class> "
                  "after the others, JSONL a \"probabilities\" object");
    cmd->add_flag("--dense-input", o->dense_input,
                  "dense pictures and kernels where the network reads sparse ones (1500x1500 presets), to "
                  "compare speed: the same results within float summation order");
    cmd->add_flag("--stats", o->stats,
                  "print packets/s and blocks/s, and the counts of packets out of time order and of evictions, "
                  "to stderr at the end");
    cmd->callback([o] {
        o->captures = resolve_captures(o->in.words, true, o->in.live(), 0, true);
        o->in.filter = o->in.words.filter;
        const auto limit = thread_limit(o->threads);
        classify(*o);
    });
}

const registrar reg_classify{"classify", 70, &add_classify_command};

}  // namespace

}  // namespace flowpic::tool
