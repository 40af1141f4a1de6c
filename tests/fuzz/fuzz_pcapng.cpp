// libFuzzer target: pcapng files through the native source::pcapng_file, both protocol
// policies, then the flow tables. Where libpcap (source::pcap_file) reads the same bytes to their
// end without an error, flowpic must read the same packets (keys and sizes; times too when every
// interface's resolution divides a second into whole nanoseconds, because libpcap rounds finer
// resolutions its own way), or a prefix of them and then stop at a check libpcap does not make.
//
// Seeds: corpus/pcapng/synthetic.pcapng is corpus/pcap/synthetic.pcap converted by
// `editcap -F pcapng`; scripts/run_fuzzer.sh adds the pcapng files of ../shared/data/fixtures.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/pcapng_file.hpp"
#include "fuzz_common.hpp"

using namespace flowpic;

namespace {

template <class Source>
bool read_all(Source& s, std::vector<keyed_packet>& out) {
    try {
        keyed_packet kp;
        while (s.next(kp)) out.push_back(kp);
        return true;
    } catch (const flowpic::error&) {
        return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::input_file file;
    const std::string& path = file.write(data, size);
    try {
        source::pcapng_file<size::ip_length, protocols::tcp_udp> s(path);
        fuzz::run_source(s, [](const keyed_packet& kp) {
            FLOWPIC_FUZZ_EXPECT(kp.key.proto == 6 || kp.key.proto == 17);
            FLOWPIC_FUZZ_EXPECT(kp.pkt.size <= 65535 + 40);
            FLOWPIC_FUZZ_EXPECT(!kp.direction_known);
        });
        const auto& st = s.stats();
        FLOWPIC_FUZZ_EXPECT(st.packets + st.not_ip + st.other_protocol + st.truncated + st.malformed +
                                st.non_first_fragments ==
                            st.frames);
        FLOWPIC_FUZZ_EXPECT(s.sections() >= 1);
    } catch (const flowpic::error&) {
    }

    // libpcap as the oracle, where it reads the file whole
    std::vector<keyed_packet> ours, theirs;
    bool ours_ok = false, decimal = true;
    try {
        source::pcapng_file<size::wire_length, protocols::any_ip> s(path);
        ours_ok = read_all(s, ours);
        for (const auto& i : s.interfaces()) decimal = decimal && 1'000'000'000u % i.units_per_second == 0;
    } catch (const flowpic::error&) {
    }
    bool theirs_ok = false;
    try {
        source::pcap_file<size::wire_length, protocols::any_ip> s(path);
        theirs_ok = read_all(s, theirs);
    } catch (const flowpic::error&) {
    }
    const bool ng = size >= 4 && data[0] == 0x0A && data[1] == 0x0D && data[2] == 0x0D && data[3] == 0x0A;
    if (ng && theirs_ok) {  // libpcap checks less (not the trailing length): a prefix, or all of it
        FLOWPIC_FUZZ_EXPECT(ours.size() <= theirs.size());
        if (ours_ok) FLOWPIC_FUZZ_EXPECT(ours.size() == theirs.size());
        for (std::size_t i = 0; i < ours.size(); ++i) {
            FLOWPIC_FUZZ_EXPECT(ours[i].key == theirs[i].key);
            FLOWPIC_FUZZ_EXPECT(ours[i].pkt.size == theirs[i].pkt.size);
            if (decimal) FLOWPIC_FUZZ_EXPECT(ours[i].pkt.time_ns == theirs[i].pkt.time_ns);
        }
    }
    return 0;
}
