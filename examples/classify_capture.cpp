// Classify a capture inside your own program: a mini-FlowPic model trained with `flowpic train`
// (the bundled data/models/default.fpm is one), the preset's pipeline over a pcap, one label per
// connection by majority vote over its 15 s blocks.
//
//   classify_capture MODEL.fpm CAPTURE.pcap
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "flowpic/nn/model_file.hpp"
#include "flowpic/pipeline/decision.hpp"
#include "flowpic/presets/mini_flowpic.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/pipeline.hpp"
#include "flowpic/source/pcap_file.hpp"

int main(int argc, char** argv) {
    using namespace flowpic;
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s MODEL.fpm CAPTURE.pcap\n", argv[0]);
        return 2;
    }
    try {
        using preset = presets::mini_flowpic;
        using network = presets::network_t<preset, 5>;
        network net;
        // throws, naming the file, when the model is not a five-class mini_flowpic network
        const nn::model_info info = nn::load_model(argv[1], net);

        using classifier = preset_pipeline<preset, network, source::pcap_file<>, backend::default_backend,
                                           decision::majority_vote>;
        classifier::options o;
        blocks::window_spec w = preset::window;  // the bundled model saw every complete 15 s window
        w.first_only = false;
        w.ends = blocks::end_rule::complete;
        w.min_packets = 10;
        o.window = w;

        source::pcap_file<> capture(argv[2]);
        std::map<std::string, std::size_t> per_label;
        const auto stats = classifier(net, o).run(capture, [&](const classification& c) {
            std::printf("%s:%u -> %s:%u  %s (%.3f over %zu blocks)\n", c.key.src.str().c_str(), unsigned(c.key.sport),
                        c.key.dst.str().c_str(), unsigned(c.key.dport), info.classes.at(c.label).c_str(),
                        double(c.score), std::size_t(c.blocks));
            ++per_label[info.classes.at(c.label)];
        });
        std::printf("%llu packets, %llu blocks, %zu connections:",
                    static_cast<unsigned long long>(stats.packets), static_cast<unsigned long long>(stats.blocks),
                    std::size_t(stats.results));
        for (const auto& [label, n] : per_label) std::printf(" %s %zu", label.c_str(), n);
        std::printf("\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "classify_capture: %s\n", e.what());
        return 1;
    }
}
