// Every capture fixture against ../shared/data/fixtures/MANIFEST.csv (independent counts made
// with dpkt, capinfos and tshark): packets, protocol counts, flows, long flows and blocks.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;

namespace {

std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool q = false;
    for (char c : line) {
        if (c == '\r' || c == '\n') continue;
        if (c == '"') q = !q;
        else if (c == ',' && !q) {
            out.push_back(cur);
            cur.clear();
        } else cur += c;
    }
    out.push_back(cur);
    return out;
}

struct manifest_row {
    std::map<std::string, std::string> f;
    long num(const std::string& k) const { return std::stol(f.at(k)); }
};

std::vector<manifest_row> read_manifest() {
    std::ifstream in(test::shared("fixtures/MANIFEST.csv"));
    std::string line;
    std::getline(in, line);
    const auto header = split_csv(line);
    std::vector<manifest_row> rows;
    while (std::getline(in, line)) {
        auto v = split_csv(line);
        if (v.size() != header.size() || v[0].find('{') != std::string::npos) continue;
        manifest_row r;
        for (std::size_t i = 0; i < v.size(); ++i) r.f[header[i]] = v[i];
        rows.push_back(r);
    }
    return rows;
}

struct counts {
    long packets = 0, v4 = 0, v6 = 0, tcp = 0, udp = 0;
    long flows = 0, flows15 = 0, flows60 = 0, blocks15 = 0, blocks60 = 0;
};

template <class Protocols>
counts count(const std::string& path) {
    counts c;
    {
        source::pcap_file<size::ip_length, Protocols> src(path);
        blocks::windowed_table<> table({}, blocks::specs::counted15);
        flows::callback_sink out{[&](const blocks::block&) { ++c.blocks15; },
                                 [&](const flows::flow& f, flows::end_reason) {
                                     ++c.flows;
                                     const auto span = f.last_ns - f.first_ns;
                                     if (f.packets >= 10 && span >= 15 * ns_per_second) ++c.flows15;
                                     if (f.packets >= 10 && span >= 60 * ns_per_second) ++c.flows60;
                                 }};
        keyed_packet kp;
        while (src.next(kp)) {
            ++c.packets;
            (kp.key.src.family == ip_family::v4 ? c.v4 : c.v6)++;
            if (kp.key.proto == 6) ++c.tcp;
            if (kp.key.proto == 17) ++c.udp;
            table.add(kp, out);
        }
        table.finish(out);
    }
    {
        source::pcap_file<size::ip_length, Protocols> src(path);
        blocks::windowed_table<> table({}, blocks::specs::counted60);
        flows::callback_sink out{[&](const blocks::block&) { ++c.blocks60; }, flows::ignore{}};
        table.consume(src, out);
    }
    return c;
}

}  // namespace

TEST_CASE("shared-data-present") {
    CHECK(test::shared_data_available());
}

TEST_CASE("fixtures match MANIFEST.csv: TCP/UDP flows, long flows and blocks") {
    const auto rows = read_manifest();
    REQUIRE(rows.size() >= 15);
    for (const auto& r : rows) {
        const std::string file = r.f.at("file");
        CAPTURE(file);
        const counts c = count<protocols::tcp_udp>(test::shared("fixtures/" + file));
        CHECK(c.flows == r.num("tcpudp_flows"));
        CHECK(c.flows15 == r.num("tcpudp_flows_ge15s"));
        CHECK(c.flows60 == r.num("tcpudp_flows_ge60s"));
        CHECK(c.blocks15 == r.num("tcpudp_blocks15s"));
        CHECK(c.blocks60 == r.num("tcpudp_blocks60s"));
    }
}

TEST_CASE("fixtures match MANIFEST.csv: every IP packet, protocol counts and all-protocol flows") {
    for (const auto& r : read_manifest()) {
        const std::string file = r.f.at("file");
        CAPTURE(file);
        const counts c = count<protocols::any_ip>(test::shared("fixtures/" + file));
        CHECK(c.v4 == r.num("ipv4_pkts"));
        CHECK(c.v6 == r.num("ipv6_pkts"));
        CHECK(c.tcp == r.num("tcp_pkts"));
        CHECK(c.udp == r.num("udp_pkts"));
        CHECK(c.flows == r.num("unidir_flows"));
        CHECK(c.flows15 == r.num("flows_ge10pk_ge15s"));
        CHECK(c.flows60 == r.num("flows_ge10pk_ge60s"));
        CHECK(c.blocks15 == r.num("blocks15s"));
        CHECK(c.blocks60 == r.num("blocks60s"));
    }
}

TEST_CASE("nanosecond and microsecond copies give identical flows") {
    auto flows_of = [](const std::string& path) {
        std::vector<std::string> rows;
        source::pcap_file<> src(path);
        flows::flow_table<> table;
        flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) {
                                     std::ostringstream s;
                                     s << f.key.src.str() << ' ' << f.key.dst.str() << ' ' << f.key.sport << ' '
                                       << f.key.dport << ' ' << int(f.key.proto) << ' ' << f.packets << ' ' << f.bytes
                                       << ' ' << f.first_ns << ' ' << f.last_ns;
                                     rows.push_back(s.str());
                                 }};
        table.consume(src, out);
        return rows;
    };
    const auto us = flows_of(test::shared("fixtures/ndpi_whatsapp_login_call.pcap"));
    const auto ns = flows_of(test::shared("fixtures/ndpi_whatsapp_login_call_nsec.pcap"));
    REQUIRE(us.size() == 103);
    CHECK(us == ns);
}
