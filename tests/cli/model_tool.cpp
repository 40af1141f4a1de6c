// Test helper for the model recipe (not installed):
//   flowpic_model_tool make PRESET CLASSES OUT [KEY=VALUE ...]   an initialised model (seed 1) with
//                                                                 that recipe; KEY v1: a version-1 file
//   flowpic_model_tool classify MODEL CAPTURE                    the library's loader
//                                                                 (presets::read_model, visit_classifier):
//                                                                 the rows `flowpic classify` prints
//   flowpic_model_tool forge MODEL OUT nan|preset|classes        MODEL with a NaN weight, an unknown
//                                                                 preset or one class, checksum made anew
//   flowpic_model_tool npy OUT nan-bias|nan-pictures|fortran-maybe|unterminated   a bad .npy
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <exception>
#include <string>
#include <vector>

#include "flowpic/core/binary_io.hpp"
#include "flowpic/core/npy.hpp"
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

// The bytes with their checksum made anew: a forged file that passes it.
std::vector<std::uint8_t> resum(std::vector<std::uint8_t> d) {
    d.resize(d.size() - 8);
    binary::writer w("model file");
    w.bytes(d.data(), d.size());
    w.checksum();
    return w.release();
}

// A model whose checksum is right but whose content is not: `nan` (the last weight is NaN),
// `preset` (preset no_such_preset), `classes` (one class name, which no preset's network takes).
int forge(const std::string& model, const std::string& out, const std::string& what) {
    auto d = binary::read_file(model);
    const auto info = nn::read_model_info(d, model);
    const std::size_t preset_at = 16, classes_at = info.classes_offset;
    if (what == "nan") {
        const float nan = std::numeric_limits<float>::quiet_NaN();
        std::memcpy(d.data() + d.size() - 12, &nan, 4);
    } else if (what == "preset" || what == "classes") {
        binary::writer w("model file");
        if (what == "preset") {
            w.bytes(d.data(), preset_at);
            w.str<std::uint32_t>("no_such_preset");
            w.bytes(d.data() + preset_at + 4 + info.preset.size(), d.size() - (preset_at + 4 + info.preset.size()));
        } else {
            std::size_t names_end = classes_at + 4;
            for (const auto& c : info.classes) names_end += 4 + c.size();
            w.bytes(d.data(), classes_at);
            w.num(std::uint32_t{1});
            w.str<std::uint32_t>(info.classes.front());
            w.bytes(d.data() + names_end, d.size() - names_end);
        }
        d = w.release();
    } else {
        throw std::invalid_argument("forge: nan, preset or classes");
    }
    binary::write_file(out, resum(std::move(d)));
    return 0;
}

// Small .npy files that numpy would not accept or that hold a NaN: `nan-bias` (float32 (5,),
// value 2 NaN), `nan-pictures` (float32 (1, 1, 32, 32), value 7 NaN), `fortran-maybe` and
// `unterminated` (the pictures' shape under a header numpy would not write).
int bad_npy(const std::string& out, const std::string& what) {
    std::vector<std::size_t> shape = what == "nan-bias" ? std::vector<std::size_t>{5} : std::vector<std::size_t>{1, 1, 32, 32};
    std::size_t n = 1;
    for (auto v : shape) n *= v;
    std::vector<float> values(n, 0.5f);
    std::string head = npy::encode_header("<f4", shape);
    if (what == "nan-bias") values[2] = std::numeric_limits<float>::quiet_NaN();
    else if (what == "nan-pictures") values[7] = std::numeric_limits<float>::quiet_NaN();
    else if (what == "fortran-maybe") head.replace(head.find("False"), 5, "Maybe");
    else if (what == "unterminated") head.replace(head.find(", }"), 3, ",  ");
    else throw std::invalid_argument("npy: nan-bias, nan-pictures, fortran-maybe or unterminated");
    std::vector<std::uint8_t> bytes(head.begin(), head.end());
    const auto* v = reinterpret_cast<const std::uint8_t*>(values.data());
    bytes.insert(bytes.end(), v, v + values.size() * sizeof(float));
    binary::write_file(out, bytes);
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "make" && argc >= 5) return make(argc, argv);
    if (mode == "classify" && argc == 4) return classify(argv[2], argv[3]);
    if (mode == "forge" && argc == 5) return forge(argv[2], argv[3], argv[4]);
    if (mode == "npy" && argc == 4) return bad_npy(argv[2], argv[3]);
    std::fprintf(stderr, "usage: flowpic_model_tool make PRESET CLASSES OUT [KEY=VALUE|v1 ...] | classify MODEL CAPTURE"
                         " | forge MODEL OUT nan|preset|classes | npy OUT nan-bias|nan-pictures|fortran-maybe|unterminated\n");
    return 2;
} catch (const std::exception& e) {
    std::fprintf(stderr, "flowpic_model_tool: %s\n", e.what());
    return 1;
}
