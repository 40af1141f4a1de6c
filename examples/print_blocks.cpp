// Read a capture and print its blocks: the stages before the pictures. A source yields keyed
// packets, the flow table groups them into connections (both directions), and the windowing stage
// cuts each connection into 15 s blocks of at least 10 packets.
//
//   print_blocks CAPTURE.pcap
#include <cstdio>
#include <exception>
#include <unordered_set>

#include "flowpic/blocks/block.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/flows/sink.hpp"
#include "flowpic/source/pcap_file.hpp"

int main(int argc, char** argv) {
    using namespace flowpic;
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CAPTURE.pcap\n", argv[0]);
        return 2;
    }
    try {
        source::pcap_file<> capture(argv[1]);
        blocks::windowed_table<flows::bidirectional> table(flows::limits{}, blocks::specs::counted15);
        std::size_t blocks_seen = 0;
        std::unordered_set<std::uint64_t> flows_with_blocks;  // flow ids, in creation order from 0
        flows::callback_sink sink{[&](const blocks::block& b) {
                                      const auto& k = b.owner->key;
                                      std::printf("%s:%u -> %s:%u  window %llu  %zu packets\n", k.src.str().c_str(),
                                                  unsigned(k.sport), k.dst.str().c_str(), unsigned(k.dport),
                                                  static_cast<unsigned long long>(b.index), b.packets.size());
                                      ++blocks_seen;
                                      flows_with_blocks.insert(b.owner->id);
                                  },
                                  flows::ignore{}};
        table.consume(capture, sink);
        std::printf("%zu blocks of %zu flows; %llu packets in %llu flows\n", blocks_seen, flows_with_blocks.size(),
                    static_cast<unsigned long long>(table.stats().packets),
                    static_cast<unsigned long long>(table.stats().flows));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "print_blocks: %s\n", e.what());
        return 1;
    }
}
