// libFuzzer target: the lab's flow records (source::flow_records) through the flow tables, then
// through train::for_each_block as `dataset` reads them: each lab capture's records in time order,
// a bidirectional preset joining a connection's two records.
#include <cstddef>
#include <cstdint>

#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/flow_records.hpp"
#include "flowpic/train/file_blocks.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

namespace {

template <class Preset>
void blocks_as_dataset(const std::string& path, std::uint64_t packets) {
    std::uint64_t in_blocks = 0;
    train::for_each_block<Preset>(path, [&](const blocks::block& b, const train::block_origin& o) {
        FLOWPIC_FUZZ_EXPECT(!b.packets.empty() && b.window_start_ns < b.window_end_ns);
        FLOWPIC_FUZZ_EXPECT(o.vpn == 0 || o.vpn == 1);
        for (std::size_t i = 0; i < b.packets.size(); ++i) {
            FLOWPIC_FUZZ_EXPECT(b.packets[i].time_ns >= b.window_start_ns);
            FLOWPIC_FUZZ_EXPECT(i == 0 || b.packets[i - 1].time_ns <= b.packets[i].time_ns);
        }
        in_blocks += b.packets.size();
    });
    constexpr auto w = Preset::window;  // windows that share no packet: no packet counted twice
    if constexpr (!w.inclusive_end && w.stride() >= w.length_ns) FLOWPIC_FUZZ_EXPECT(in_blocks <= packets);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::with_input_file(data, size, [](const std::string& path) {
        source::flow_records s(path);
        std::uint64_t n = 0;
        fuzz::run_source(s, [&](const keyed_packet& kp) {
            const auto& f = s.flow(s.current_flow());
            FLOWPIC_FUZZ_EXPECT(kp.key.session == s.current_flow() + 1);
            FLOWPIC_FUZZ_EXPECT(kp.pkt.size >= 1 && kp.pkt.size <= 0x7fff);
            FLOWPIC_FUZZ_EXPECT(kp.pkt.time_ns >= f.first_ns);
            ++n;
        });
        FLOWPIC_FUZZ_EXPECT(n == s.packet_count());
        blocks_as_dataset<presets::mini_flowpic>(path, n);
        blocks_as_dataset<presets::shapira2019>(path, n);
        blocks_as_dataset<presets::network_stats>(path, n);
    });
    return 0;
}
