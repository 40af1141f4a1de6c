// flowpic render INPUT | -r FILE [EXPR] --preset NAME --out DIR [--format npy|png|svg] [--bidirectional]
// [-f EXPR] [--force | --append]: one picture file per block, plus DIR/index.csv
// (file,src,dst,sport,dport,proto,block_start,packets,picture).
// Every file is written atomically, index.csv last; a DIR that holds a render's output is refused
// unless --force (replaced: pictures the new index does not name are removed at the end) or
// --append (numbered after the index's rows, which the new index.csv keeps).
//
// INPUT is anything source::visit_file opens (pcap, pcapng, the CSV formats; "-": standard input)
// or a FLOWPIC1 workload file (its blocks are rendered as they are: no flows, no windows, empty
// 5-tuples). A BPF filter (-f, or tcpdump's expression after -r FILE) applies to captures.
// The preset fixes the windows, the flow grouping and the picture (picture/presets.hpp);
// --bidirectional puts both directions of a connection in one flow whatever the preset says.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "damage.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/picture/npy.hpp"
#include "flowpic/picture/png.hpp"
#include "flowpic/picture/svg.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/bpf_filter.hpp"
#include "flowpic/source/flowpic1.hpp"
#include "flowpic/train/file_blocks.hpp"
#include "options.hpp"
#include "output_dir.hpp"
#include "table_warnings.hpp"
#include "progress.hpp"
#include "text.hpp"

namespace flowpic::tool {

namespace {

struct render_options {
    capture_words words{{}, {}, {}, "INPUT"};
    std::string input;
    std::string preset{presets::shapira2019::name};
    std::string out;
    std::string format = "npy";
    bool bidirectional = false;
    bool strict = false;
    std::string tunnels = "outer";
    bool force = false;
    bool append = false;
    bool quiet = false;
};

constexpr const char* index_header = "file,src,dst,sport,dport,proto,block_start,packets,picture";

// index.csv and the pictures a render writes (NNNNNN.npy, .png, .svg).
bool is_render_output(const std::string& name) {
    if (name == "index.csv") return true;
    if (name.size() != 10 || name[6] != '.') return false;
    const std::string ext = name.substr(7);
    return std::all_of(name.begin(), name.begin() + 6, [](char c) { return c >= '0' && c <= '9'; }) &&
           (ext == "npy" || ext == "png" || ext == "svg");
}

template <class Preset>
class renderer {
public:
    using H = typename Preset::picture;

    explicit renderer(const render_options& o)
        : o_(o),
          dir_(o.out),
          old_(prepare_output_dir(o.out,
                                  o.force    ? existing_output::replace
                                  : o.append ? existing_output::append
                                             : existing_output::refuse,
                                  is_render_output, "--force (replace) or --append")),
          index_((dir_ / "index.csv").string()),
          bar_("flowpic render", "pictures", 0, o.quiet) {
        std::string kept = std::string(index_header) + "\n";
        const std::string index_path = (dir_ / "index.csv").string();
        if (o.append && std::filesystem::exists(index_path)) {
            std::ifstream in(index_path, std::ios::binary);
            kept.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            if (!in.eof() && in.fail()) throw io_error(location{index_path}, "cannot read");
            if (kept.compare(0, std::string_view(index_header).size() + 1, std::string(index_header) + "\n") != 0)
                throw format_error(location{index_path, 0, 1},
                                   "not a render index (expected the header " + std::string(index_header) + ")");
            if (kept.back() != '\n') kept += '\n';
            count_ = static_cast<std::size_t>(std::count(kept.begin(), kept.end(), '\n')) - 1;
        }
        index_.write(kept);
    }

    void block(const blocks::block& b) {
        char name[32];
        std::snprintf(name, sizeof name, "%06zu.%s", count_++, o_.format.c_str());
        const auto& pic = maker_.dense(b);
        const std::string path = (dir_ / name).string();
        if (o_.format == "png") {
            // small pictures scaled up to >= 256 pixels; large ones with 3-pixel dots per cell
            const std::size_t side = std::max(H::height, H::width);
            picture::write_png(path, pic, H::time_in_rows, 0, side >= 256 ? 1 : 256 / side, side >= 512 ? 3 : 1);
        }
        std::string src, dst, sport = "0", dport = "0", proto = "0";
        if (b.owner && keyed_) {
            const flow_key& k = b.owner->key;
            src = k.src.str();
            dst = k.dst.str();
            sport = std::to_string(k.sport);
            dport = std::to_string(k.dport);
            proto = std::to_string(k.proto);
        }
        if (o_.format == "svg") {
            picture::figure_labels l;
            l.max_size = static_cast<double>(H::size_axis_type::max_size);
            l.time_span_s = b.window_end_ns > b.window_start_ns ? static_cast<double>(b.window_end_ns - b.window_start_ns) / 1e9
                                                                 : l.time_span_s;
            l.title = src.empty() ? "block " + std::to_string(count_ - 1)
                                  : src + ":" + sport + " \u2192 " + dst + ":" + dport +
                                        (proto == "6" ? " TCP" : proto == "17" ? " UDP" : " protocol " + proto);
            l.subtitle = "window from " + epoch_seconds(b.window_start_ns) + " s, " + std::to_string(b.packets.size()) +
                         " packets, preset " + std::string(Preset::name);
            picture::write_svg(path, pic, H::time_in_rows, l);
        } else if (o_.format != "png") {
            picture::save_npy(path, pic);
        }
        bar_.step();
        index_.write(csv_field(o_.input) + ',' + csv_field(src) + ',' + csv_field(dst) + ',' + sport + ',' + dport + ',' +
                     proto + ',' + epoch_seconds(b.window_start_ns) + ',' + std::to_string(b.packets.size()) + ',' +
                     name + '\n');
        written_.insert(name);
    }

    void run() {
        if (o_.input != "-" && source::is_flowpic1(o_.input)) {
            keyed_ = false;
            const source::flowpic1_workload w(o_.input);
            source::set_filter(w, o_.words.filter, o_.input);  // refused: a workload has no frames
            for (std::size_t i = 0; i < w.block_count(); ++i) block(w.block(i));
        } else {
            // the preset's windows and flow grouping, as flowpic dataset cuts files
            train::file_block_options fo;
            fo.bidirectional = o_.bidirectional;
            fo.tunnels = tunnel_mode_of(o_.tunnels);
            fo.filter = o_.words.filter;
            std::optional<source::damage> damage;
            if (!o_.strict) fo.stop_at_damage = &damage;
            train::time_order_counts order;
            fo.time_order = &order;
            train::for_each_block<Preset>(
                o_.input,
                [&](const blocks::block& b, const train::block_origin& origin) {
                    keyed_ = origin.keyed;
                    block(b);
                },
                fo);
            bar_.clear();
            if (damage) report_damage(*damage);
            warn_about(o_.input, table_counts{order.backwards, order.late_packets});
        }
        bar_.clear();
        index_.commit();
        // --force: what the previous render left and the new index does not name
        if (o_.force)
            for (const auto& f : old_)
                if (f.filename() != "index.csv" && !written_.contains(f.filename().string())) {
                    std::error_code ec;
                    std::filesystem::remove(f, ec);
                }
        std::fprintf(stderr, "flowpic: %zu pictures (%s, %s) in %s\n", count_, std::string(Preset::name).c_str(),
                     o_.format.c_str(), o_.out.c_str());
    }

private:
    const render_options& o_;
    std::filesystem::path dir_;
    std::vector<std::filesystem::path> old_;
    atomic_file index_;
    std::set<std::string> written_;
    picture::maker<H> maker_;
    std::size_t count_ = 0;
    bool keyed_ = true;
    progress_line bar_;
};

void add_render_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("render", "Render the FlowPic of every block: one .npy or .png per block, plus index.csv");
    auto o = std::make_shared<render_options>();
    auto* group = cmd->add_option_group("input", "INPUT or -r");
    add_capture_words(*cmd, *group, o->words,
                      "pcap, pcapng, a supported CSV file or a FLOWPIC1 workload; - reads standard input",
                      "the input to read, as tcpdump's -r (the same as INPUT)");
    add_picture_preset_option(*cmd, o->preset);
    cmd->add_option("--out", o->out,
                    "output directory (created if missing); one that holds a render's output needs --force or --append")
        ->required();
    cmd->add_option("--format", o->format, "npy (channels first; (H, W) for one channel), png (log-scaled grey, "
                                           "x = time, y = size upwards) or svg (the png inside an annotated figure: "
                                           "axes, log colour scale, the flow and window in the title)")
        ->check(CLI::IsMember({"npy", "png", "svg"}))
        ->capture_default_str();
    add_bidirectional_flag(*cmd, o->bidirectional);
    add_strict_flag(*cmd, o->strict);
    add_tunnels_option(*cmd, o->tunnels);
    auto* force = add_force_flag(*cmd, o->force, "a render's output (index.csv, pictures)");
    cmd->add_flag("--append", o->append,
                  "add to the render already in --out: pictures numbered after its index.csv's rows, which the new "
                  "index.csv keeps")
        ->excludes(force);
    add_quiet_flag(*cmd, o->quiet);
    cmd->callback([o] {
        o->input = resolve_captures(o->words, false, false, 1, true).front();
        presets::visit(o->preset, [&](auto p) {
            renderer<decltype(p)> r(*o);
            r.run();
        });
    });
}

const registrar reg_render{"render", 40, &add_render_command};

}  // namespace

}  // namespace flowpic::tool
