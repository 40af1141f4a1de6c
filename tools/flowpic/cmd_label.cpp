// flowpic label CAPTURE|DIR... | -r FILE [EXPR] --out labels.csv [--map FILE] [-f EXPR] [--format csv|jsonl]: nDPI names
// each flow's application and category, the label map turns them into a FlowPic class; one row per flow
// (docs/labels.md). A BPF filter (-f, or tcpdump's expression after -r FILE) drops frames before nDPI sees them.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "flowpic/core/atomic_file.hpp"
#include "damage.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/labels/label_file.hpp"
#include "flowpic/labels/label_map.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/bpf_filter.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "json_writer.hpp"
#include "options.hpp"
#include "progress.hpp"

#if defined(FLOWPIC_HAS_NDPI)
#include "flowpic/ndpi/flow_classifier.hpp"
#include "flowpic/source/frames.hpp"
#endif

namespace flowpic::tool {

namespace {

struct label_options {
    capture_words words;
    std::vector<std::string> captures;
    std::string out;
    std::string map;
    bool quiet = false;
    bool keep_going = false;
    bool strict = false;
    std::string format = "csv";
};

#if defined(FLOWPIC_HAS_NDPI)
// The rows as JSON lines (keys: the label file's header) into `path`, "-" for standard output.
// CSV goes through labels::write_label_file, the format `dataset --labels` reads.
void write_label_jsonl(const std::string& path, const std::vector<labels::flow_label>& rows) {
    const table_format table(output_format::jsonl, labels::label_file_header, {"sport", "dport", "proto", "first"});
    std::string text;
    for (const auto& r : rows) {
        text += table.row(labels::format_label_row(r));
        text += '\n';
    }
    if (path != "-") {
        write_file_atomically(path, std::string_view(text));
        return;
    }
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
        throw io_error(location{path}, "write error");
}
#endif

#if defined(FLOWPIC_HAS_NDPI)
// One capture's flows ("-": standard input), of the frames `filter` passes, labelled, ordered by
// first packet time, then key.
std::vector<labels::flow_label> label_capture(const std::string& path, const labels::label_map& map, bool strict,
                                              const std::string& filter) {
    ndpi::flow_classifier classifier;
    std::optional<source::damage> damage;
    source::bpf_filter bpf(filter, path == "-" ? "standard input" : path);
    source::visit_frames(
        path,
        [&](const source::frame& f) {
            if (bpf.matches(f.link_type, f.data, f.caplen, f.wire))
                classifier.add_frame(f.time_ns, f.link_type, f.data, f.caplen);
        },
        strict ? nullptr : &damage);
    if (damage) report_damage(*damage);
    std::vector<labels::flow_label> rows;
    for (auto& f : classifier.finish()) {
        labels::flow_label r;
        r.key = f.key;
        r.first_ns = f.first_ns;
        r.cls = map.classify(f.application, f.category);
        r.application = std::move(f.application);
        r.category = std::move(f.category);
        rows.push_back(std::move(r));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const labels::flow_label& a, const labels::flow_label& b) {
        return std::tie(a.first_ns, a.key) < std::tie(b.first_ns, b.key);
    });
    return rows;
}

// The captures to label: files as given ("-": standard input); of the files in directories, the
// pcap and pcapng ones (gzip or zstd compressed too).
std::vector<std::string> expand_captures(const std::vector<std::string>& given, std::size_t& not_captures) {
    std::vector<std::string> out;
    for (const auto& f : train::expand_paths(given)) {
        if (f == "-" || std::find(given.begin(), given.end(), f) != given.end()) {  // named: refused loudly if no capture
            out.push_back(f);
            continue;
        }
        const auto format = source::sniff_format(f);
        if (format == source::file_format::pcap || format == source::file_format::pcapng ||
            source::sniff_compression(f) != source::compression::none)  // a compressed capture, presumably
            out.push_back(f);
        else ++not_captures;
    }
    return out;
}

void run_label(const label_options& o) {
    const labels::label_map map = o.map.empty() ? labels::default_map() : labels::label_map::load(o.map);
    std::vector<labels::flow_label> rows;
    std::size_t skipped = 0, not_captures = 0;
    const auto captures = expand_captures(o.captures, not_captures);
    if (not_captures > 0 && !o.quiet)
        std::fprintf(stderr, "flowpic label: %zu files in the directories given are no pcap or pcapng capture: left out\n",
                     not_captures);
    progress_line bar("flowpic label", "captures", captures.size(), o.quiet);
    for (const auto& c : captures) {
        std::vector<labels::flow_label> r;
        try {
            r = label_capture(c, map, o.strict, o.words.filter);
            bar.step();
        } catch (const flowpic::error& e) {
            bar.clear();
            if (!o.keep_going) throw;
            std::fprintf(stderr, "flowpic label: skipped: %s\n", e.what());  // none of its rows
            ++skipped;
            continue;
        }
        rows.insert(rows.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
    }
    bar.clear();
    if (output_format_of(o.format) == output_format::jsonl) write_label_jsonl(o.out, rows);
    else labels::write_label_file(o.out, rows);
    if (o.quiet) return;
    std::map<std::string, std::size_t> per_class;
    for (const auto& r : rows) ++per_class[r.cls.empty() ? "(unnamed)" : r.cls];
    const std::size_t read = captures.size() - skipped;
    std::fprintf(stderr, "flowpic label: %zu flows of %zu capture%s (nDPI %s)\n", rows.size(), read,
                 read == 1 ? "" : "s", ndpi::flow_classifier::ndpi_version().c_str());
    for (const auto& [cls, n] : per_class) std::fprintf(stderr, "  %-14s %zu\n", cls.c_str(), n);
}
#else
[[noreturn]] void run_label(const label_options&) {
    throw flowpic::error("flowpic was built without nDPI, so it cannot label flows: install libndpi-dev "
                         "and build with -DFLOWPIC_ENABLE_NDPI=ON");
}
#endif

void add_label_command(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "label", "Label each flow of pcap/pcapng captures with nDPI's application and category, and a FlowPic "
                 "class from them: CSV " + std::string(labels::label_file_header));
    auto o = std::make_shared<label_options>();
    auto* group = cmd->add_option_group("input", "CAPTUREs or -r");
    add_capture_words(*cmd, *group, o->words,
                      "pcap or pcapng captures, or directories of them (walked in sorted order); - reads standard input",
                      "a capture (or directory) to read, as tcpdump's -r (the same as CAPTURE; several: -r FILE for each)");
    cmd->add_option("--out", o->out, "the label file to write (- for standard output)")->required();
    cmd->add_option("--map", o->map, "label map CSV (kind,name,class) replacing the default one (docs/labels.md)")
        ->check(CLI::ExistingFile);
    add_quiet_flag(*cmd, o->quiet, "no progress line and no per-class summary on standard error");
    cmd->add_flag("--keep-going", o->keep_going,
                  "a capture that cannot be read (corrupt, unsupported link type) is reported on standard error and "
                  "left out, instead of stopping");
    add_strict_flag(*cmd, o->strict);
    add_format_option(*cmd, o->format);
    cmd->callback([o] {
        o->captures = resolve_captures(o->words, false, false, 0, true);
        for (auto c : o->captures)  // as CLI::ExistingPath said of CAPTURE before -r
            if (c != "-")
                if (const std::string why = CLI::ExistingPath(c); !why.empty()) throw CLI::ValidationError("CAPTURE", why);
        run_label(*o);
    });
}

const registrar reg_label{"label", 65, &add_label_command};
}  // namespace

}  // namespace flowpic::tool
