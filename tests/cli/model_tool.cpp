// Test helper for the model recipe (not installed):
//   flowpic_model_tool make PRESET CLASSES OUT [KEY=VALUE ...]   an initialised model (seed 1) with
//                                                                 that recipe; KEY v1: a version-1 file
//   flowpic_model_tool classify MODEL CAPTURE                    the library's loader
//                                                                 (presets::read_model, visit_classifier):
//                                                                 the rows `flowpic classify` prints
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "flowpic/core/binary_io.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "text.hpp"

using namespace flowpic;

namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at <= s.size()) {
        auto c = s.find(',', at);
        if (c == std::string::npos) c = s.size();
        out.push_back(s.substr(at, c - at));
        at = c + 1;
    }
    return out;
}

// A version-2 file without recipe fields, rewritten as version 1 (no field count).
void make_v1(const std::string& path) {
    auto d = binary::read_file(path);
    const auto info = nn::read_model_info(d, path);
    std::size_t at = 16 + 4 + info.preset.size() + 4 + info.signature.size() + 4;
    for (const auto& c : info.classes) at += 4 + c.size();
    std::vector<std::uint8_t> out(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(at));
    out.insert(out.end(), d.begin() + static_cast<std::ptrdiff_t>(at + 4), d.end() - 8);
    out[8] = 1;
    binary::writer w("model file");
    w.bytes(out.data(), out.size());
    w.checksum();
    binary::write_file(path, w.data());
}

int make(int argc, char** argv) {
    const std::string preset = argv[2], out = argv[4];
    const auto classes = split(argv[3]);
    nn::model_fields fields;
    bool v1 = false;
    for (int i = 5; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "v1") {
            v1 = true;
            continue;
        }
        const auto eq = a.find('=');
        fields.emplace_back(a.substr(0, eq), a.substr(eq + 1));
    }
    const std::size_t outputs = preset == "network_stats" ? 1 : classes.size();
    presets::visit_network(preset, preset == "network_stats" ? classes.size() : outputs, [&](auto p, auto& net) {
        net.init(decltype(p)::init, 1);
        nn::save_model(out, net, preset, classes, fields);
    });
    if (v1) make_v1(out);
    return 0;
}

int classify(const std::string& model, const std::string& capture) {
    const auto m = presets::read_model(model);
    std::vector<std::string> classes = m.info.classes;
    if (classes.size() == 1) classes.insert(classes.begin(), "not " + classes.front());
    std::puts("src,dst,sport,dport,proto,block_start,label,score");
    presets::visit_classifier<source::pcap_file<>>(m, [&](auto& classifier) {
        source::pcap_file<> src(capture);
        classifier.run(src, [&](const classification& r) {
            std::string row = r.key == flow_key{} ? std::string(",,0,0,0")
                                                  : r.key.src.str() + ',' + r.key.dst.str() + ',' +
                                                        std::to_string(r.key.sport) + ',' + std::to_string(r.key.dport) +
                                                        ',' + std::to_string(r.key.proto);
            char tail[64];
            std::snprintf(tail, sizeof tail, ",%.6f", double(r.score));
            row += ',' + tool::epoch_seconds(r.block_start_ns) + ',' +
                   (r.unknown ? std::string("unknown") : tool::csv_field(classes.at(r.label))) + tail;
            std::puts(row.c_str());
        });
    });
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "make" && argc >= 5) return make(argc, argv);
    if (mode == "classify" && argc == 4) return classify(argv[2], argv[3]);
    std::fprintf(stderr, "usage: flowpic_model_tool make PRESET CLASSES OUT [KEY=VALUE|v1 ...] | classify MODEL CAPTURE\n");
    return 2;
} catch (const std::exception& e) {
    std::fprintf(stderr, "flowpic_model_tool: %s\n", e.what());
    return 1;
}
