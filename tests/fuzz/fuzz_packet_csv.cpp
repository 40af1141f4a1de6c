// libFuzzer target: the per-packet session CSV through source::packet_csv, then the flow tables.
#include <cstddef>
#include <cstdint>

#include "flowpic/source/packet_csv.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::input_file file;
    const std::string& path = file.write(data, size);
    try {
        source::packet_csv s(path);
        fuzz::run_source(s, [&](const keyed_packet& kp) {
            FLOWPIC_FUZZ_EXPECT(kp.pkt.size <= 65535);
            FLOWPIC_FUZZ_EXPECT(kp.direction_known);
            FLOWPIC_FUZZ_EXPECT(kp.key.session >= 1 && kp.key.session <= s.sessions());
            FLOWPIC_FUZZ_EXPECT(kp.key.src.family == ip_family::none);
            const bool up = kp.pkt.dir == direction::forward;
            FLOWPIC_FUZZ_EXPECT(kp.key.sport == (up ? 1 : 2) && kp.key.dport == (up ? 2 : 1));
            FLOWPIC_FUZZ_EXPECT(!s.session_name(kp.key.session).empty());
            FLOWPIC_FUZZ_EXPECT(kp.pkt.time_ns >= 0 && kp.pkt.time_ns % 1000 == 0);
        });
    } catch (const flowpic::error&) {
    }
    return 0;
}
