// flowpic::ndpi::flow_classifier on hand-made packets: flows of both directions under one
// 5-tuple, oriented by their first packet; nDPI's names; other protocols left out.
#include <doctest/doctest.h>

#if defined(FLOWPIC_HAS_NDPI)

#include <cstdint>
#include <vector>

#include "flowpic/ndpi/flow_classifier.hpp"

using namespace flowpic;

namespace {

// IPv4/UDP a:sport -> b:dport carrying payload; checksums left 0 (nDPI does not check them).
std::vector<std::uint8_t> udp4(std::uint8_t a, std::uint8_t b, std::uint16_t sport, std::uint16_t dport,
                               const std::vector<std::uint8_t>& payload) {
    const auto total = static_cast<std::uint16_t>(28 + payload.size());
    const auto ulen = static_cast<std::uint16_t>(8 + payload.size());
    std::vector<std::uint8_t> p{0x45, 0, static_cast<std::uint8_t>(total >> 8), static_cast<std::uint8_t>(total), 0, 1, 0, 0, 64, 17, 0, 0,
                                10, 0, 0, a, 10, 0, 0, b,
                                static_cast<std::uint8_t>(sport >> 8), static_cast<std::uint8_t>(sport),
                                static_cast<std::uint8_t>(dport >> 8), static_cast<std::uint8_t>(dport),
                                static_cast<std::uint8_t>(ulen >> 8), static_cast<std::uint8_t>(ulen), 0, 0};
    for (const std::uint8_t byte : payload) p.push_back(byte);  // (insert of an empty range trips GCC 12's -Warray-bounds)
    return p;
}

const std::vector<std::uint8_t> dns_query{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l',
                                          'e', 3,    'c',  'o', 'm', 0, 0, 1, 0, 1};

}  // namespace

TEST_CASE("ndpi: a DNS exchange is one flow, named DNS, oriented by its query") {
    ndpi::flow_classifier c;
    auto reply = dns_query;
    reply[2] = 0x81;
    reply[3] = 0x80;
    CHECK(c.add(2'000'000'000, udp4(1, 2, 40000, 53, dns_query)));
    CHECK(c.add(2'010'000'000, udp4(2, 1, 53, 40000, reply)));
    CHECK(c.flow_count() == 1);
    const auto flows = c.finish();
    REQUIRE(flows.size() == 1);
    const auto& f = flows[0];
    CHECK(f.key.src.str() == "10.0.0.1");
    CHECK(f.key.dst.str() == "10.0.0.2");
    CHECK(f.key.sport == 40000);
    CHECK(f.key.dport == 53);
    CHECK(f.key.proto == 17);
    CHECK(f.first_ns == 2'000'000'000);
    CHECK(f.last_ns == 2'010'000'000);
    CHECK(f.packets == 2);
    CHECK(f.application == "DNS");
    CHECK(f.category == "Network");
    CHECK(c.flow_count() == 0);
}

TEST_CASE("ndpi: flows nDPI cannot name are Unknown; non-TCP/UDP packets are no flows") {
    ndpi::classifier_options no_guess;
    no_guess.guess = false;  // no guess from ports and addresses either
    ndpi::flow_classifier c(no_guess);
    // (a payload no dissector claims: 0xdeadbeef.. would be AmazonVideo's)
    CHECK(c.add(1, udp4(1, 2, 40001, 40002, std::vector<std::uint8_t>(17, 0x5a))));
    auto icmp = udp4(1, 2, 0, 0, {});
    icmp[9] = 1;
    CHECK_FALSE(c.add(2, icmp));
    CHECK_FALSE(c.add(3, {}));
    CHECK_FALSE(c.add(4, std::vector<std::uint8_t>{0x45, 0}));  // truncated header
    const auto flows = c.finish();
    REQUIRE(flows.size() == 1);
    CHECK(flows[0].application == "Unknown");
    CHECK(flows[0].category == "Unspecified");
    CHECK_FALSE(ndpi::flow_classifier::ndpi_version().empty());
}

TEST_CASE("ndpi: flows come out in order of their first packet") {
    ndpi::flow_classifier c;
    for (std::uint16_t i = 0; i < 5; ++i) CHECK(c.add(10 + i, udp4(1, 2, static_cast<std::uint16_t>(50000 - i), 53, dns_query)));
    const auto flows = c.finish();
    REQUIRE(flows.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) CHECK(flows[i].key.sport == 50000 - i);
}

#endif  // FLOWPIC_HAS_NDPI
