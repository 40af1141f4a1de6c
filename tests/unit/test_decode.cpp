// Frame decoding on hand-built frames: link layers, VLAN tags, IPv4 options, IPv6 extension
// headers, fragments and truncation.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "flowpic/decode/frame.hpp"

using namespace flowpic;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes ipv4_tcp(std::uint16_t total, std::uint8_t ihl_words = 5, std::uint16_t frag = 0) {
    bytes b(ihl_words * 4 + 20, 0);
    b[0] = static_cast<std::uint8_t>(0x40 | ihl_words);
    b[2] = static_cast<std::uint8_t>(total >> 8);
    b[3] = static_cast<std::uint8_t>(total);
    b[6] = static_cast<std::uint8_t>(frag >> 8);
    b[7] = static_cast<std::uint8_t>(frag);
    b[9] = 6;
    b[12] = 10; b[15] = 1;
    b[16] = 10; b[19] = 2;
    const std::size_t t = ihl_words * 4u;
    b[t] = 0x1f; b[t + 1] = 0x90;      // 8080
    b[t + 2] = 0x00; b[t + 3] = 0x50;  // 80
    b[t + 12] = 0x80;                  // data offset 32 bytes
    return b;
}

bytes ether(std::vector<std::uint16_t> tags, std::uint16_t type, const bytes& payload) {
    bytes b(12, 0xaa);
    for (auto t : tags) {
        b.push_back(static_cast<std::uint8_t>(t >> 8));
        b.push_back(static_cast<std::uint8_t>(t));
        b.push_back(0);
        b.push_back(5);
    }
    b.push_back(static_cast<std::uint8_t>(type >> 8));
    b.push_back(static_cast<std::uint8_t>(type));
    b.insert(b.end(), payload.begin(), payload.end());
    return b;
}

decode::decoded run(int dlt, const bytes& b, decode::status expect = decode::status::ok) {
    decode::decoded d;
    CHECK(decode::decode_frame(dlt, b.data(), static_cast<std::uint32_t>(b.size()), d) == expect);
    return d;
}

}  // namespace

TEST_CASE("Ethernet IPv4 TCP: key, IP length and payload length") {
    const auto d = run(1, ether({}, 0x0800, ipv4_tcp(1500)));
    CHECK(d.key.src.str() == "10.0.0.1");
    CHECK(d.key.dst.str() == "10.0.0.2");
    CHECK(d.key.sport == 8080);
    CHECK(d.key.dport == 80);
    CHECK(d.key.proto == 6);
    CHECK(d.ip_length == 1500);
    CHECK(d.payload_length == 1500 - 20 - 32);
    CHECK(d.tcp_udp);
}

TEST_CASE("802.1Q and QinQ tags are skipped") {
    CHECK(run(1, ether({0x8100}, 0x0800, ipv4_tcp(60))).key.dport == 80);
    CHECK(run(1, ether({0x88a8, 0x8100}, 0x0800, ipv4_tcp(60))).key.dport == 80);
    CHECK(run(1, ether({0x9100, 0x8100}, 0x0800, ipv4_tcp(60))).key.dport == 80);
}

TEST_CASE("IPv4 options move the transport header") {
    const auto d = run(101, ipv4_tcp(100, 8));
    CHECK(d.key.sport == 8080);
    CHECK(d.payload_length == 100 - 32 - 32);
}

TEST_CASE("truncated capture keeps the IP total length as the size") {
    auto frame = ether({}, 0x0800, ipv4_tcp(1400));
    frame.resize(14 + 20 + 4);  // snaplen cuts inside the TCP header, after the ports
    const auto d = run(1, frame);
    CHECK(d.ip_length == 1400);
    CHECK(d.key.dport == 80);
    frame.resize(14 + 10);
    run(1, frame, decode::status::truncated);
}

TEST_CASE("fragments: only the first carries ports") {
    const auto first = run(228, ipv4_tcp(1500, 5, 0x2000));  // MF, offset 0
    CHECK(first.fragment);
    CHECK(first.first_fragment);
    CHECK(first.key.sport == 8080);
    const auto later = run(228, ipv4_tcp(600, 5, 185));  // offset 1480
    CHECK(later.fragment);
    CHECK_FALSE(later.first_fragment);
    CHECK_FALSE(later.tcp_udp);
    CHECK(later.key.sport == 0);
    CHECK(later.ip_length == 600);
}

TEST_CASE("IPv6 with hop-by-hop and destination options before UDP") {
    bytes b(40 + 8 + 16 + 8, 0);
    b[0] = 0x60;
    const std::uint16_t plen = 8 + 16 + 8 + 100;
    b[4] = static_cast<std::uint8_t>(plen >> 8);
    b[5] = static_cast<std::uint8_t>(plen);
    b[6] = 0;   // hop-by-hop
    b[8] = 0x20; b[8 + 15] = 1;
    b[24] = 0x20; b[24 + 15] = 2;
    b[40] = 60; b[41] = 0;        // next: dest opts, 8 bytes
    b[48] = 17; b[49] = 1;        // next: UDP, 16 bytes
    b[64] = 0x01; b[65] = 0xbb;   // 443
    b[66] = 0xc3; b[67] = 0x50;   // 50000
    const auto d = run(229, b);
    CHECK(d.key.proto == 17);
    CHECK(d.key.sport == 443);
    CHECK(d.key.dport == 50000);
    CHECK(d.ip_length == plen + 40u);
    CHECK(d.payload_length == 100);
    CHECK(d.key.src.str() == "2000::1");
}

TEST_CASE("BSD loopback in either byte order, SLL and SLL2") {
    bytes lo = {2, 0, 0, 0};
    auto ip = ipv4_tcp(60);
    lo.insert(lo.end(), ip.begin(), ip.end());
    CHECK(run(0, lo).key.dport == 80);
    bytes lo_be = {0, 0, 0, 2};
    lo_be.insert(lo_be.end(), ip.begin(), ip.end());
    CHECK(run(0, lo_be).key.dport == 80);
    bytes sll(16, 0);
    sll[14] = 0x08;
    sll.insert(sll.end(), ip.begin(), ip.end());
    CHECK(run(113, sll).key.dport == 80);
    bytes sll2(20, 0);
    sll2[0] = 0x08;
    sll2.insert(sll2.end(), ip.begin(), ip.end());
    CHECK(run(276, sll2).key.dport == 80);
}

TEST_CASE("non-IP frames and unknown link types are reported, not decoded") {
    run(1, ether({}, 0x0806, bytes(28, 0)), decode::status::not_ip);
    run(147, bytes(40, 0), decode::status::unsupported_link);
    run(101, bytes{0x45}, decode::status::truncated);
    bytes bad = ipv4_tcp(60);
    bad[0] = 0x43;  // IHL 3 words: impossible
    run(228, bad, decode::status::malformed);
}
