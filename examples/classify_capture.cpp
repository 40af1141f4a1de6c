// Classify a capture inside your own program: a model trained with `flowpic train` (the bundled
// data/models/default.fpm is one), applied as its recipe says (its preset's pipeline, the windows
// it was trained on, its score thresholds), one label per connection by majority vote over its
// blocks. `flowpic classify --decision majority` loads models the same way.
//
//   classify_capture MODEL.fpm CAPTURE.pcap
#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include "flowpic/pipeline/decision.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/source/pcap_file.hpp"

int main(int argc, char** argv) {
    using namespace flowpic;
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s MODEL.fpm CAPTURE.pcap\n", argv[0]);
        return 2;
    }
    try {
        // throws, naming the file and offset, when the file or a recipe value is bad
        const presets::model model = presets::read_model(argv[1]);
        std::map<std::string, std::size_t> per_label;
        presets::visit_classifier<source::pcap_file<>, backend::default_backend, decision::majority_vote>(
            model, [&](auto& classifier) {
                source::pcap_file<> capture(argv[2]);
                const auto stats = classifier.run(capture, [&](const classification& c) {
                    const std::string label = c.unknown ? "unknown" : model.info.classes.at(c.label);
                    std::printf("%s:%u -> %s:%u  %s (%.3f over %zu blocks)\n", c.key.src.str().c_str(),
                                unsigned(c.key.sport), c.key.dst.str().c_str(), unsigned(c.key.dport), label.c_str(),
                                double(c.score), std::size_t(c.blocks));
                    ++per_label[label];
                });
                std::printf("%llu packets, %llu blocks, %zu connections:",
                            static_cast<unsigned long long>(stats.packets),
                            static_cast<unsigned long long>(stats.blocks), std::size_t(stats.results));
            });
        for (const auto& [label, n] : per_label) std::printf(" %s %zu", label.c_str(), n);
        std::printf("\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "classify_capture: %s\n", e.what());
        return 1;
    }
}
