// flowpic classify CAPTURE | --interface IF [--model MODEL] [--decision block|majority|mean]:
// one CSV row per block as it completes (or per flow when it ends, with a per-flow decision):
//   src,dst,sport,dport,proto,block_start,label,score
// Without --model the tool's bundled default model classifies (data/models/, embedded at build).
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
#include "flowpic/nn/model_file.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/pipeline.hpp"
#include "flowpic/source/any_source.hpp"
#include "input.hpp"
#include "options.hpp"
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
};

// A block's label is the arg max of a softmax over the classes.
template <class Net>
inline constexpr bool labels_blocks = Net::output_shape.size() > 1;

template <class Preset, class Net, class Decision>
void classify_with(Net& net, const std::vector<std::string>& classes, const classify_options& o) {
    using classifier = preset_pipeline<Preset, Net, source::any_source, backend::tbb, Decision>;
    typename classifier::options po;
    if (o.batch > 0) po.batch = o.batch;
    if (o.in.live()) po.batch = 1;  // report each block as soon as its window closes
    po.limits = o.flow_limits.table_limits();
    if (o.all_windows || o.min_packets) {
        blocks::window_spec w = Preset::window;
        if (o.all_windows) {
            w.first_only = false;
            w.ends = blocks::end_rule::complete;
        }
        if (o.min_packets) w.min_packets = *o.min_packets;
        po.window = w;
    }
    classifier pipe(net, po);
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
            row += ',' + epoch_seconds(r.block_start_ns) + ',' + csv_field(classes.at(r.label)) + tail;
            std::puts(row.c_str());
            if (live) std::fflush(stdout);
        };
        return pipe.run(any, emit);
    });
    std::fflush(stdout);
    if (o.stats) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "flowpic classify: packets=%llu flows=%llu blocks=%llu results=%llu seconds=%.3f "
                     "packets_per_s=%.0f blocks_per_s=%.1f batch=%zu\n",
                     static_cast<unsigned long long>(stats.packets), static_cast<unsigned long long>(stats.flows),
                     static_cast<unsigned long long>(stats.blocks), static_cast<unsigned long long>(stats.results), s,
                     double(stats.packets) / s, double(stats.blocks) / s, pipe.settings().batch);
    }
}

template <class Preset, class Net>
void classify_decided(Net& net, const std::vector<std::string>& classes, const classify_options& o) {
    if (o.decision == "block") classify_with<Preset, Net, decision::per_block>(net, classes, o);
    else if (o.decision == "majority") classify_with<Preset, Net, decision::majority_vote>(net, classes, o);
    else classify_with<Preset, Net, decision::mean_probability>(net, classes, o);
}

void classify(classify_options o) {
    std::vector<unsigned char> bytes;
    std::string name = o.model;
    if (o.model.empty()) {
        if (!o.min_packets) {  // the windows it was trained on, unless the user chose others
            o.all_windows = o.all_windows || default_model_all_windows;
            o.min_packets = default_model_min_packets;
        }
        bytes = default_model_bytes();
        name = default_model_name;
        if (bytes.empty()) throw std::runtime_error("this flowpic was built without a bundled model: pass --model MODEL");
    } else {
        bytes = binary::read_file(o.model);
    }
    const nn::model_info info = nn::read_model_info(bytes, name);
    std::vector<std::string> classes = info.classes;
    bool ran = false;
    presets::visit_network(info.preset, std::max<std::size_t>(classes.size(), 1), [&](auto preset, auto& net) {
        using Net = std::remove_reference_t<decltype(net)>;
        nn::load_model(bytes, name, net);
        if constexpr (labels_blocks<Net>) {
            classify_decided<decltype(preset)>(net, classes, o);
            ran = true;
        }
    });
    if (!ran)
        throw format_error(location{name, 0}, "a " + info.preset + " model: its network does not take the pictures of "
                                              "the preset of that name, so it cannot classify traffic end to end");
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
                  "every complete window of each flow, not only the preset's (mini_flowpic: the first 15 s); "
                  "the bundled model's default, as it was trained");
    cmd->add_option("--min-packets", o->min_packets,
                    "classify blocks with at least this many packets (default: the preset's; bundled model: 10)");
    cmd->add_flag("--stats", o->stats, "print packets/s and blocks/s to stderr at the end");
    cmd->callback([o] {
        const auto limit = thread_limit(o->threads);
        classify(*o);
    });
}

const registrar reg_classify{"classify", 70, &add_classify_command};

}  // namespace

}  // namespace flowpic::tool
