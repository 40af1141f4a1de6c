// decode::ip_packet finds the IP header behind every link layer flowpic decodes, and
// source::visit_frames hands out a capture's frames as captured (pcap and pcapng alike).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/decode/ip_packet.hpp"
#include "flowpic/source/frames.hpp"
#include "test_files.hpp"

using namespace flowpic;

namespace {

// IPv4/UDP 10.0.0.1:1000 -> 10.0.0.2:53 with 4 payload bytes.
std::vector<std::uint8_t> ipv4_udp() {
    return {0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            0x03, 0xe8, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4};
}

std::vector<std::uint8_t> with_prefix(std::vector<std::uint8_t> prefix, const std::vector<std::uint8_t>& ip) {
    prefix.insert(prefix.end(), ip.begin(), ip.end());
    return prefix;
}

}  // namespace

TEST_CASE("ip_packet: Ethernet, VLAN, raw, loopback and Linux cooked frames") {
    const auto ip = ipv4_udp();
    const std::vector<std::uint8_t> eth{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};
    const std::vector<std::uint8_t> vlan{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x81, 0x00, 0, 5, 0x08, 0x00};
    const std::vector<std::uint8_t> lo{2, 0, 0, 0};
    std::vector<std::uint8_t> sll(16, 0);
    sll[14] = 0x08;
    struct frame_case {
        int dlt;
        std::vector<std::uint8_t> bytes;
        std::size_t offset;
    };
    const std::vector<frame_case> cases{{1, with_prefix(eth, ip), 14}, {1, with_prefix(vlan, ip), 18},
                                        {101, ip, 0},                  {12, ip, 0},
                                        {228, ip, 0},                  {0, with_prefix(lo, ip), 4},
                                        {113, with_prefix(sll, ip), 16}};
    for (const auto& c : cases) {
        CAPTURE(c.dlt);
        const auto s = decode::ip_packet(c.dlt, c.bytes.data(), static_cast<std::uint32_t>(c.bytes.size()));
        REQUIRE(s.size() == ip.size());
        CHECK(s.data() == c.bytes.data() + c.offset);
    }
    // not IP: ARP, an IPv6 link type holding IPv4, a short frame, an unknown link type
    std::vector<std::uint8_t> arp = with_prefix(eth, ip);
    arp[12] = 0x08;
    arp[13] = 0x06;
    CHECK(decode::ip_packet(1, arp.data(), static_cast<std::uint32_t>(arp.size())).empty());
    CHECK(decode::ip_packet(229, ip.data(), static_cast<std::uint32_t>(ip.size())).empty());
    CHECK(decode::ip_packet(1, eth.data(), 10).empty());
    CHECK(decode::ip_packet(9, ip.data(), static_cast<std::uint32_t>(ip.size())).empty());
}

TEST_CASE("visit_frames: pcap frames with their link type and nanosecond times") {
    test::temp_dir dir("frames");
    test::byte_writer w;
    w.u32(0xa1b2c3d4);  // microsecond pcap, raw IP
    w.u16(2);
    w.u16(4);
    w.u32(0);
    w.u32(0);
    w.u32(65535);
    w.u32(101);
    const auto ip = ipv4_udp();
    for (std::uint32_t i = 0; i < 3; ++i) {
        w.u32(100 + i);
        w.u32(250);
        w.u32(static_cast<std::uint32_t>(ip.size()));
        w.u32(static_cast<std::uint32_t>(ip.size()));
        w.raw(ip);
    }
    const auto path = dir.write("three.pcap", w.b);
    std::vector<std::int64_t> times;
    source::visit_frames(path, [&](const source::frame& f) {
        CHECK((f.link_type == 12 || f.link_type == 14 || f.link_type == 101));  // libpcap gives raw IP as its DLT_RAW
        CHECK(f.caplen == ip.size());
        CHECK(std::vector<std::uint8_t>(f.data, f.data + f.caplen) == ip);
        times.push_back(f.time_ns);
    });
    CHECK(times == std::vector<std::int64_t>{100'000'250'000, 101'000'250'000, 102'000'250'000});
}

TEST_CASE("visit_frames: files without payloads and broken files are errors naming the file") {
    test::temp_dir dir("frames");
    const std::string csv = dir.write("flows.csv", {'s', 'e', 's', 's', 'i', 'o', 'n', ',', '1', '\n'});
    CHECK_THROWS_WITH_AS(source::visit_frames(csv, [](const source::frame&) {}),
                         doctest::Contains("flows.csv"), format_error);
    const std::string empty = dir.write("empty.pcap", {});
    CHECK_THROWS_WITH_AS(source::visit_frames(empty, [](const source::frame&) {}), doctest::Contains("empty.pcap"),
                         format_error);
    CHECK_THROWS_AS(source::visit_frames(dir / "missing.pcap", [](const source::frame&) {}), io_error);
}
