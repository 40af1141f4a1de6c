// libFuzzer target: pcap and pcapng files through source::pcap_file (libpcap + frame decoding),
// both protocol policies (the second entering GRE and GTP-U tunnels), then the flow tables.
#include <cstddef>
#include <cstdint>

#include "flowpic/source/pcap_file.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::input_file file;
    const std::string& path = file.write(data, size);
    try {
        source::pcap_file<size::ip_length, protocols::tcp_udp> s(path);
        fuzz::run_source(s, [](const keyed_packet& kp) {
            FLOWPIC_FUZZ_EXPECT(kp.key.proto == 6 || kp.key.proto == 17);
            FLOWPIC_FUZZ_EXPECT(kp.pkt.size <= 65535 + 40);
            FLOWPIC_FUZZ_EXPECT(!kp.direction_known);
        });
        const auto& st = s.stats();
        FLOWPIC_FUZZ_EXPECT(st.packets + st.not_ip + st.other_protocol + st.truncated + st.malformed +
                                st.non_first_fragments ==
                            st.frames);
    } catch (const flowpic::error&) {
    }
    try {
        source::pcap_file<size::transport_payload, protocols::any_ip> s(path);
        s.set_tunnels(decode::tunnel_mode::inner);  // GRE and GTP-U entered
        fuzz::run_source(s, [](const keyed_packet&) {});
    } catch (const flowpic::error&) {
    }
    return 0;
}
