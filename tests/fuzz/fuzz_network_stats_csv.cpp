// libFuzzer target: the network-stats extended CSV through source::network_stats_csv (both
// protocol policies), then the flow tables.
#include <cstddef>
#include <cstdint>

#include "flowpic/source/network_stats_csv.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::input_file file;
    const std::string& path = file.write(data, size);
    auto check = [](const keyed_packet& kp) {
        FLOWPIC_FUZZ_EXPECT(kp.pkt.size <= 65535);
        FLOWPIC_FUZZ_EXPECT(kp.direction_known);
        FLOWPIC_FUZZ_EXPECT(kp.pkt.time_ns >= 0 && kp.pkt.time_ns <= source::detail::max_abs_time_ns);
        FLOWPIC_FUZZ_EXPECT(kp.pkt.time_ns % 1'000'000 == 0);
    };
    try {
        source::network_stats_csv<protocols::any_ip> s(path);
        fuzz::run_source(s, check);
        FLOWPIC_FUZZ_EXPECT(s.stats().packets == s.stats().frames && s.stats().other_protocol == 0);
    } catch (const flowpic::error&) {
    }
    try {
        source::network_stats_csv<protocols::tcp_udp> s(path);
        fuzz::run_source(s, [&](const keyed_packet& kp) {
            check(kp);
            FLOWPIC_FUZZ_EXPECT(kp.key.proto == 6 || kp.key.proto == 17);
        });
        FLOWPIC_FUZZ_EXPECT(s.stats().packets + s.stats().other_protocol == s.stats().frames);
    } catch (const flowpic::error&) {
    }
    return 0;
}
