// flowpic render INPUT --preset NAME --out DIR [--format npy|png|svg] [--bidirectional]:
// one picture file per block, plus DIR/index.csv
// (file,src,dst,sport,dport,proto,block_start,packets,picture).
//
// INPUT is anything source::visit_file opens (pcap, pcapng, the CSV formats) or a FLOWPIC1
// workload (its blocks are rendered as they are: no flows, no windows, empty 5-tuples).
// The preset fixes the windows, the flow grouping and the picture (picture/presets.hpp);
// --bidirectional puts both directions of a connection in one flow whatever the preset says.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
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
#include "flowpic/source/flowpic1.hpp"
#include "flowpic/train/file_blocks.hpp"
#include "options.hpp"
#include "progress.hpp"
#include "text.hpp"

namespace flowpic::tool {

namespace {

struct render_options {
    std::string input;
    std::string preset{presets::shapira2019::name};
    std::string out;
    std::string format = "npy";
    bool bidirectional = false;
    bool strict = false;
    std::string tunnels = "outer";
    bool quiet = false;
};

template <class Preset>
class renderer {
public:
    using H = typename Preset::picture;

    explicit renderer(const render_options& o) : o_(o), dir_(o.out), bar_("flowpic render", "pictures", 0, o.quiet) {
        std::filesystem::create_directories(dir_);
        index_.open(dir_ / "index.csv", std::ios::trunc);
        if (!index_) throw io_error(location{(dir_ / "index.csv").string()}, "cannot open for writing");
        index_ << "file,src,dst,sport,dport,proto,block_start,packets,picture\n";
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
        index_ << csv_field(o_.input) << ',' << csv_field(src) << ',' << csv_field(dst) << ',' << sport << ',' << dport << ','
               << proto << ',' << epoch_seconds(b.window_start_ns) << ',' << b.packets.size() << ',' << name << '\n';
    }

    void run() {
        if (source::is_flowpic1(o_.input)) {
            keyed_ = false;
            const source::flowpic1_workload w(o_.input);
            for (std::size_t i = 0; i < w.block_count(); ++i) block(w.block(i));
        } else {
            // the preset's windows and flow grouping, as flowpic dataset cuts files
            train::file_block_options fo;
            fo.bidirectional = o_.bidirectional;
            fo.tunnels = tunnel_mode_of(o_.tunnels);
            std::optional<source::damage> damage;
            if (!o_.strict) fo.stop_at_damage = &damage;
            train::for_each_block<Preset>(
                o_.input,
                [&](const blocks::block& b, const train::block_origin& origin) {
                    keyed_ = origin.keyed;
                    block(b);
                },
                fo);
            bar_.clear();
            if (damage) report_damage(*damage);
        }
        bar_.clear();
        index_.flush();
        if (!index_) throw io_error(location{(dir_ / "index.csv").string()}, "write failed");
        std::fprintf(stderr, "flowpic: %zu pictures (%s, %s) in %s\n", count_, std::string(Preset::name).c_str(),
                     o_.format.c_str(), o_.out.c_str());
    }

private:
    const render_options& o_;
    std::filesystem::path dir_;
    std::ofstream index_;
    picture::maker<H> maker_;
    std::size_t count_ = 0;
    bool keyed_ = true;
    progress_line bar_;
};

void add_render_command(CLI::App& app) {
    auto* cmd = app.add_subcommand("render", "Render the FlowPic of every block: one .npy or .png per block, plus index.csv");
    auto o = std::make_shared<render_options>();
    cmd->add_option("INPUT", o->input, "pcap, pcapng, a supported CSV file or a FLOWPIC1 workload")->required();
    add_picture_preset_option(*cmd, o->preset);
    cmd->add_option("--out", o->out, "output directory (created if missing)")->required();
    cmd->add_option("--format", o->format, "npy (channels first; (H, W) for one channel), png (log-scaled grey, "
                                           "x = time, y = size upwards) or svg (the png inside an annotated figure: "
                                           "axes, log colour scale, the flow and window in the title)")
        ->check(CLI::IsMember({"npy", "png", "svg"}))
        ->capture_default_str();
    add_bidirectional_flag(*cmd, o->bidirectional);
    add_strict_flag(*cmd, o->strict);
    add_tunnels_option(*cmd, o->tunnels);
    add_quiet_flag(*cmd, o->quiet);
    cmd->callback([o] {
        presets::visit(o->preset, [&](auto p) {
            renderer<decltype(p)> r(*o);
            r.run();
        });
    });
}

const registrar reg_render{"render", 40, &add_render_command};

}  // namespace

}  // namespace flowpic::tool
