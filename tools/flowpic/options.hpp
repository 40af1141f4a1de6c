#pragma once
// Options shared by the subcommands, each declared once: input, flows and blocks, threads,
// batch, model file, picture preset, seed.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <oneapi/tbb/global_control.h>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/decode/frame.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/presets/builtin.hpp"
#include "damage.hpp"

namespace flowpic::tool {

// --threads N, 0 for all cores; thread_limit(N) holds oneTBB to N while it lives (none for 0).
template <class N>
CLI::Option* add_threads_option(CLI::App& cmd, N& threads) {
    return cmd.add_option("--threads", threads, "threads (0: all cores)")->check(CLI::NonNegativeNumber);
}
template <class N>
[[nodiscard]] std::unique_ptr<oneapi::tbb::global_control> thread_limit(N threads) {
    if (threads <= 0) return nullptr;
    return std::make_unique<oneapi::tbb::global_control>(oneapi::tbb::global_control::max_allowed_parallelism,
                                                         static_cast<std::size_t>(threads));
}

// --batch B (positive).
template <class N>
CLI::Option* add_batch_option(CLI::App& cmd, N& batch, const std::string& help = "pictures per forward pass") {
    return cmd.add_option("--batch", batch, help)->check(CLI::PositiveNumber);
}

// --model FILE, an existing model file the command needs.
inline CLI::Option* add_model_option(CLI::App& cmd, std::string& model, const std::string& help = "model file") {
    return cmd.add_option("--model", model, help)->required()->check(CLI::ExistingFile);
}

// --preset NAME, one of the presets (flowpic/presets/).
inline CLI::Option* add_picture_preset_option(CLI::App& cmd, std::string& preset,
                                              const std::string& what = "picture preset") {
    return cmd.add_option("--preset", preset, what + ": " + presets::names_list())
        ->check(CLI::IsMember(presets::names()))
        ->capture_default_str();
}

// --seed S, its default shown.
template <class N>
CLI::Option* add_seed_option(CLI::App& cmd, N& seed, const std::string& help) {
    return cmd.add_option("--seed", seed, help)->capture_default_str();
}

// --tunnels outer|inner: GRE and GTP-U packets as the tunnel's flow, or as the flows inside it.
inline CLI::Option* add_tunnels_option(CLI::App& cmd, std::string& tunnels) {
    return cmd.add_option("--tunnels", tunnels,
                          "GRE and GTP-U tunnels: outer (a tunnel is one flow between its endpoints) or inner "
                          "(each tunnelled connection is its own flow, sized by its own IP header)")
        ->check(CLI::IsMember({"outer", "inner"}))
        ->capture_default_str();
}
[[nodiscard]] inline decode::tunnel_mode tunnel_mode_of(const std::string& tunnels) noexcept {
    return tunnels == "inner" ? decode::tunnel_mode::inner : decode::tunnel_mode::outer;
}

// --format csv|jsonl: the rows as CSV under a header (the default), or one JSON object per line
// keyed by the CSV header's names (json_writer.hpp).
inline CLI::Option* add_format_option(CLI::App& cmd, std::string& format) {
    return cmd.add_option("--format", format,
                          "csv: rows under a header line; jsonl: one JSON object per row, keyed by the CSV "
                          "header's names, numbers with the CSV's digits")
        ->check(CLI::IsMember({"csv", "jsonl"}))
        ->capture_default_str();
}

// -q/--quiet: no progress line on stderr (progress.hpp; there is none into a pipe or a file anyway).
inline CLI::Option* add_quiet_flag(CLI::App& cmd, bool& quiet, const std::string& help = "no progress line on stderr") {
    return cmd.add_flag("-q,--quiet", quiet, help);
}

// Captures named as tcpdump names them: CAPTURE words or -r FILE, and a BPF filter as -f EXPR or,
// once -r FILE or -i IF names the input, as the words after it (`-r cap.pcap tcp port 443`), so a
// word is either a capture or part of an expression, never both.
struct capture_words {
    std::vector<std::string> positional;  // the captures; after -r or -i, a filter expression's words
    std::vector<std::string> read;        // -r FILE, once per capture
    std::string filter;                   // -f EXPR; after resolve_captures, the filter either way
    std::string positional_name = "CAPTURE";
};

// -f/--filter EXPR; `live`: the command captures from interfaces too.
inline CLI::Option* add_filter_option(CLI::App& cmd, std::string& filter, bool live = true) {
    return cmd.add_option("-f,--filter", filter,
                          std::string("BPF capture filter in tcpdump's syntax (e.g. 'tcp port 443'), applied to each "
                                      "frame before the flow table; pcap and pcapng files") +
                              (live ? " and live capture" : "") +
                              " only. As tcpdump takes it, the words after -r FILE" + (live ? " or -i IF" : "") +
                              " are such an expression too: -r cap.pcap tcp port 443");
}

// The positional captures and -r (once per capture) into `group`, -f into `cmd`; `live`: the
// command takes -i too.
inline void add_capture_words(CLI::App& cmd, CLI::Option_group& group, capture_words& w, const std::string& positional_help,
                              const std::string& read_help, bool live = false) {
    group.add_option(w.positional_name, w.positional,
                     positional_help + std::string(" (after -r FILE") + (live ? " or -i IF" : "") +
                         ": the words of a capture filter, as tcpdump's)");
    group.add_option("-r,--read", w.read, read_help)->allow_extra_args(false);  // one FILE each: then the expression
    add_filter_option(cmd, w.filter, live);
}

// The captures that `w` names (its -r files, or else its positional words) and, in w.filter, the
// filter (-f, or the words after -r FILE or -i IF). `can_live`: the command takes -i, `live`: it
// was given; `at_most`: how many captures the command reads (0: any number); `required`: at least
// one input. The errors word what the parser said before the trailing expression existed.
inline std::vector<std::string> resolve_captures(capture_words& w, bool can_live, bool live, std::size_t at_most,
                                                 bool required) {
    const std::string inputs = "[" + w.positional_name + ",-r,--read" + (can_live ? ",-i,--interface" : "") + "]";
    const std::string one_of = "Exactly 1 option from " + inputs + " is required";
    const auto refused = [](const std::string& why) { return CLI::RequiredError(why, CLI::ExitCodes::RequiredError); };
    const std::size_t named = (w.read.empty() ? 0 : 1) + (live ? 1 : 0);
    if (named > 1) throw refused(one_of + " and 2 were given");
    std::vector<std::string> captures = named == 0 ? w.positional : w.read;
    if (named == 1 && !w.positional.empty()) {
        std::string expression;
        for (const auto& word : w.positional) {
            std::error_code ec;
            if (word == "-" || std::filesystem::exists(word, ec))
                throw refused(one_of + " and 2 were given: " + w.positional_name + " " + word + " and " +
                              (live ? "--interface" : "-r") +
                              " both name the input (the words after -r FILE or -i IF are a capture filter "
                              "expression, as tcpdump's; a filter that is a file's name too goes after -f" +
                              (at_most != 1 ? "; several captures: -r FILE for each" : "") + ")");
            expression += (expression.empty() ? "" : " ") + word;
        }
        if (!w.filter.empty())
            throw CLI::ValidationError("-f", "a capture filter both as -f ('" + w.filter + "') and after the input ('" +
                                                 expression + "'): give it once");
        w.filter = expression;
    }
    if (required && captures.empty() && !live)
        throw refused(can_live ? one_of : w.positional_name + " is required (or -r FILE)");
    if (at_most > 0 && captures.size() > at_most)
        throw refused("one " + w.positional_name + " only, and " + std::to_string(captures.size()) +
                      " were given (a filter expression after the capture needs -r: -r FILE EXPRESSION)");
    if (std::count(captures.begin(), captures.end(), std::string("-")) > 1)
        throw CLI::ValidationError(w.positional_name, "standard input (-) can be read once: name it once");
    return captures;
}

// Where packets come from: a file (positional or tcpdump's -r; "-" is standard input), or a live
// interface (exactly one of them); -f or tcpdump's trailing expression, a BPF capture filter for
// either. resolve_input fills `capture` and `filter` once the words are parsed.
struct input_options {
    capture_words words;
    std::string capture;
    std::string filter;  // BPF expression (tcpdump syntax); empty: every frame
    std::string interface_name;
    double seconds = 0;
    std::uint64_t count = 0;
    bool strict = false;  // refuse a file cut short or damaged part way (damage.hpp)
    std::string tunnels = "outer";

    [[nodiscard]] bool live() const noexcept { return !interface_name.empty(); }
};

inline constexpr const char* capture_help =
    "pcap or pcapng capture (gzip or zstd compressed too), or a supported CSV/workload file; - reads standard input";

// -i IF with its --seconds and --count, into `group` and `cmd`.
inline void add_live_options(CLI::App& cmd, CLI::Option_group& group, input_options& o) {
    auto* itf = group.add_option("-i,--interface", o.interface_name,
                                 "capture live from this network interface (needs root); stop with "
                                 "--seconds, --count or Ctrl-C");
    cmd.add_option("--seconds", o.seconds, "live capture: stop after this many seconds (0: no limit)")
        ->check(CLI::Range(0.0, 1e9))
        ->needs(itf);
    cmd.add_option("--count", o.count, "live capture: stop after this many TCP/UDP packets (0: no limit)")
        ->needs(itf);
}

inline void add_input_options(CLI::App& cmd, input_options& o) {
    auto* group = cmd.add_option_group("input", "exactly one of CAPTURE, -r or --interface");
    add_capture_words(cmd, *group, o.words, capture_help, "the capture to read, as tcpdump's -r (the same as CAPTURE)",
                      true);
    add_live_options(cmd, *group, o);
    add_strict_flag(cmd, o.strict);
    add_tunnels_option(cmd, o.tunnels);
}

// Once parsed: the capture and the filter that the words name (resolve_captures).
inline void resolve_input(input_options& o) {
    const auto captures = resolve_captures(o.words, true, o.live(), 1, true);
    o.capture = captures.empty() ? std::string() : captures.front();
    o.filter = o.words.filter;
}

// The flow table's bounds.
struct flow_limit_options {
    double idle_timeout = 0;
    std::size_t max_flows = 0;
    std::size_t max_packets = 0;

    [[nodiscard]] flows::limits table_limits() const {
        return flows::limits{blocks::seconds(idle_timeout), max_flows, max_packets};
    }
};

struct flow_options : flow_limit_options {
    bool bidirectional = false;
};

inline void add_bidirectional_flag(CLI::App& cmd, bool& bidirectional) {
    cmd.add_flag("--bidirectional", bidirectional, "both directions of a connection in one flow");
}

inline void add_flow_limit_options(CLI::App& cmd, flow_limit_options& o) {
    cmd.add_option("--idle-timeout", o.idle_timeout, "end a flow after this many idle seconds (0: never)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--max-flows", o.max_flows, "bound on live flows; the least recently active end early (0: none)");
    cmd.add_option("--max-packets", o.max_packets,
                   "bound on buffered packets; the least recently active flows end early (0: none)");
}

inline void add_flow_options(CLI::App& cmd, flow_options& o) {
    add_bidirectional_flag(cmd, o.bidirectional);
    add_flow_limit_options(cmd, o);
}

struct block_options {
    double block = 60;
    double stride = 0;
    std::uint32_t min_packets = 1;
    double min_span = 0;
    std::uint32_t min_flow_packets = 0;
    bool inclusive = false;
    bool first_only = false;
    std::string ends = "complete";

    [[nodiscard]] blocks::window_spec spec() const {
        blocks::window_spec w;
        w.length_ns = blocks::seconds(block);
        w.stride_ns = blocks::seconds(stride);
        w.min_packets = min_packets;
        w.min_span_ns = blocks::seconds(min_span);
        w.min_flow_packets = min_flow_packets;
        w.inclusive_end = inclusive;
        w.first_only = first_only;
        w.ends = ends == "any" ? blocks::end_rule::any
               : ends == "authors" ? blocks::end_rule::authors
                                   : blocks::end_rule::complete;
        return w;
    }
};

inline void add_block_options(CLI::App& cmd, block_options& o) {
    cmd.add_option("--block", o.block, "block length in seconds")->check(CLI::PositiveNumber)->capture_default_str();
    cmd.add_option("--stride", o.stride, "seconds between block starts (default: the block length)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--min-packets", o.min_packets, "keep blocks with at least this many packets")->capture_default_str();
    cmd.add_option("--min-span", o.min_span, "keep blocks whose first-to-last span is at least this many seconds")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--min-flow-packets", o.min_flow_packets,
                   "blocks only of flows that reach this many packets (shapira2019: 20, its sessions; windows are "
                   "held until then)");
    cmd.add_flag("--inclusive-end", o.inclusive, "windows include their end instant (the reference's [t, t + length])");
    cmd.add_flag("--first-only", o.first_only, "only the first block of each flow (mini-FlowPic's first N seconds)");
    cmd.add_option("--ends", o.ends, "which windows a flow's end closes: complete, authors or any")
        ->check(CLI::IsMember({"complete", "authors", "any"}))
        ->capture_default_str();
}

}  // namespace flowpic::tool
