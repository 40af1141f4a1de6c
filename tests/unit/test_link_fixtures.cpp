// Link layers and tunnels against tshark: the captures of tests/fixtures/links (PPP, Cisco HDLC,
// PPI, radiotap, VLAN/QinQ, MPLS, GRE, GTP-U), and expected.csv, what tshark 4.0 decodes in them
// (both written by scripts/make_link_fixtures.py). Every IP frame is one packet with tshark's
// addresses, ports, protocol and IP length: of the first IP layer with --tunnels outer, of the
// innermost with --tunnels inner.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "flowpic/decode/frame.hpp"
#include "flowpic/decode/ip_packet.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"
#include "test_files.hpp"

using namespace flowpic;

namespace {

struct expected_row {
    std::string file, tunnels, src, dst;
    unsigned sport = 0, dport = 0, proto = 0, ip_length = 0;
};

std::vector<expected_row> expected() {
    std::ifstream in(test::repo("tests/fixtures/links/expected.csv"));
    REQUIRE(in);
    std::vector<expected_row> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#' || line.rfind("file,", 0) == 0) continue;
        std::vector<std::string> f;
        std::size_t start = 0;
        for (std::size_t i = 0; i <= line.size(); ++i)
            if (i == line.size() || line[i] == ',') {
                f.push_back(line.substr(start, i - start));
                start = i + 1;
            }
        REQUIRE(f.size() == 9);
        rows.push_back({f[0], f[2], f[3], f[4], static_cast<unsigned>(std::stoul(f[5])),
                        static_cast<unsigned>(std::stoul(f[6])), static_cast<unsigned>(std::stoul(f[7])),
                        static_cast<unsigned>(std::stoul(f[8]))});
    }
    return rows;
}

}  // namespace

TEST_CASE("link layers and tunnels: every fixture frame as tshark decodes it") {
    const auto rows = expected();
    std::map<std::pair<std::string, std::string>, std::vector<expected_row>> by_file;
    for (const auto& r : rows) by_file[{r.file, r.tunnels}].push_back(r);
    REQUIRE(by_file.size() == 14);  // 7 captures, 2 modes
    for (const auto& [which, want] : by_file) {
        const auto& [file, tunnels] = which;
        CAPTURE(file);
        CAPTURE(tunnels);
        source::pcap_file<size::ip_length, protocols::any_ip> src(test::repo("tests/fixtures/links/" + file));
        CHECK(decode::supported(src.link_type()));
        src.set_tunnels(tunnels == "inner" ? decode::tunnel_mode::inner : decode::tunnel_mode::outer);
        std::vector<keyed_packet> got;
        keyed_packet kp;
        while (src.next(kp)) got.push_back(kp);
        REQUIRE(got.size() == want.size());
        std::size_t tunnelled = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
            CAPTURE(i);
            const auto& k = got[i].key;
            CHECK(k.src.str() == want[i].src);
            CHECK(k.dst.str() == want[i].dst);
            CHECK(k.sport == want[i].sport);
            CHECK(k.dport == want[i].dport);
            CHECK(k.proto == want[i].proto);
            CHECK(got[i].pkt.size == want[i].ip_length);
            if (want[i].src != (by_file.at({file, "outer"})[i].src)) ++tunnelled;
        }
        CHECK(src.stats().tunnelled == tunnelled);
        CHECK(src.stats().frames == got.size() + src.stats().not_ip);  // the PPP LCP frame is not IP
        CHECK(src.stats().truncated + src.stats().malformed == 0);
    }
}

TEST_CASE("link layers: ip_packet finds the outer IP header behind the new link layers") {
    for (const char* file : {"ppp.pcap", "chdlc.pcap", "ppi.pcap", "radiotap.pcap", "vlan_mpls.pcap"}) {
        CAPTURE(file);
        pcap_t* p = nullptr;
        char err[PCAP_ERRBUF_SIZE] = {};
        p = pcap_open_offline(test::repo(std::string("tests/fixtures/links/") + file).c_str(), err);
        REQUIRE(p);
        const int dlt = pcap_datalink(p);
        pcap_pkthdr* h = nullptr;
        const u_char* data = nullptr;
        int ip_frames = 0;
        while (pcap_next_ex(p, &h, &data) == 1) {
            const auto s = decode::ip_packet(dlt, data, h->caplen);
            decode::decoded d;
            const bool ip = decode::decode_frame(dlt, data, h->caplen, d) == decode::status::ok;
            CHECK(s.empty() == !ip);
            if (!s.empty()) {
                ++ip_frames;
                CHECK(s.data() + s.size() == data + h->caplen);
                CHECK(((s[0] >> 4) == 4 || (s[0] >> 4) == 6));
            }
        }
        pcap_close(p);
        CHECK(ip_frames > 0);
    }
}

TEST_CASE("link layers: truncated and odd frames are counted, never read past the capture") {
    // every prefix of every fixture frame decodes to ok, truncated, not_ip or malformed, in bounds
    for (const char* file : {"ppp.pcap", "chdlc.pcap", "ppi.pcap", "radiotap.pcap", "vlan_mpls.pcap", "gre.pcap", "gtpu.pcap"}) {
        CAPTURE(file);
        char err[PCAP_ERRBUF_SIZE] = {};
        pcap_t* p = pcap_open_offline(test::repo(std::string("tests/fixtures/links/") + file).c_str(), err);
        REQUIRE(p);
        const int dlt = pcap_datalink(p);
        pcap_pkthdr* h = nullptr;
        const u_char* data = nullptr;
        while (pcap_next_ex(p, &h, &data) == 1) {
            for (std::uint32_t n = 0; n <= h->caplen; ++n) {
                std::vector<std::uint8_t> copy(data, data + n);  // so that ASan sees a read past n
                for (auto mode : {decode::tunnel_mode::outer, decode::tunnel_mode::inner}) {
                    decode::decoded d;
                    const auto st = decode::decode_frame(dlt, copy.data(), n, d, mode);
                    CHECK(st != decode::status::unsupported_link);
                }
                (void)decode::ip_packet(dlt, copy.data(), n);
            }
        }
        pcap_close(p);
    }
}
