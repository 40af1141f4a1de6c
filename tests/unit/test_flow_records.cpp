// The compact flow-records format of the lab's dataset: hand-built files (round trip and every
// kind of corruption, each named by file and byte offset), and the committed files against
// independent oracles: the records scripts/lab/make_dataset.py wrote (Python, standard library)
// must equal the flows flowpic's pcap reader finds in the same capture, and the dataset must
// match the per-category summary the script counted.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/source/flow_records.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;
using source::category;
using source::flow_records;

namespace {

// A tiny writer, for tests only: the format of flow_records.hpp.
struct test_flow {
    std::uint8_t src = 1, dst = 2;  // last byte of 10.0.0.x
    std::uint16_t sport = 40000, dport = 443;
    std::uint8_t proto = 6, family = 4, cat = 1, vpn = 0;
    std::uint16_t app = 0, cap = 1;
    std::int64_t first_ns = 1'700'000'000'123'456'000;
    std::vector<std::pair<std::uint32_t, std::uint16_t>> pkts;  // (us since first, size | dir << 15)
};

template <class T>
void put(std::vector<std::uint8_t>& b, T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i) b.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i)));
}

std::vector<std::uint8_t> encode(const std::vector<std::string>& strings, const std::vector<test_flow>& flows) {
    std::vector<std::uint8_t> s, f, p;
    for (const auto& str : strings) {
        put<std::uint16_t>(s, static_cast<std::uint16_t>(str.size()));
        for (char c : str) s.push_back(static_cast<std::uint8_t>(c));
    }
    std::uint64_t first = 0, npk = 0;
    for (const auto& fl : flows) {
        std::uint8_t addr[32] = {};
        addr[0] = 10; addr[3] = fl.src;
        addr[16] = 10; addr[19] = fl.dst;
        f.insert(f.end(), addr, addr + 32);
        put(f, fl.sport); put(f, fl.dport);
        f.push_back(fl.proto); f.push_back(fl.family); f.push_back(fl.cat); f.push_back(fl.vpn);
        put(f, fl.app); put(f, fl.cap);
        put<std::uint32_t>(f, static_cast<std::uint32_t>(fl.pkts.size()));
        put<std::int64_t>(f, fl.first_ns);
        put<std::uint64_t>(f, first);
        first += fl.pkts.size();
        for (auto [us, sd] : fl.pkts) {
            put(p, us);
            put(p, sd);
            ++npk;
        }
    }
    std::vector<std::uint8_t> b;
    for (char c : std::string_view("FPRECORD")) b.push_back(static_cast<std::uint8_t>(c));
    put<std::uint16_t>(b, 1); put<std::uint16_t>(b, 64); put<std::uint16_t>(b, 64); put<std::uint16_t>(b, 6);
    put<std::uint32_t>(b, static_cast<std::uint32_t>(flows.size()));
    put<std::uint32_t>(b, static_cast<std::uint32_t>(strings.size()));
    put<std::uint64_t>(b, npk);
    const std::uint64_t so = 64, fo = so + s.size(), po = fo + f.size(), size = po + p.size();
    put(b, so); put(b, fo); put(b, po); put(b, size);
    b.insert(b.end(), s.begin(), s.end());
    b.insert(b.end(), f.begin(), f.end());
    b.insert(b.end(), p.begin(), p.end());
    return b;
}

std::vector<test_flow> two_flows() {
    test_flow a;
    a.pkts = {{0, 1500}, {10, 1500}, {2'000'000, 52 | 0x8000}};
    test_flow b;
    b.src = 3; b.dst = 4; b.sport = 5004; b.dport = 20000; b.proto = 17; b.cat = 0; b.vpn = 1; b.app = 2;
    b.first_ns = 1'700'000'001'000'000'000;
    b.pkts = {{0, 120}, {20'000, 80}};
    return {a, b};
}

const std::vector<std::string> strings3{"hls-https", "video/video-plain-000.pcap", "opus-srtp"};

// Runs the reader on `b` and returns the error text ("" when it did not throw format_error).
std::string error_of(std::vector<std::uint8_t> b) {
    try {
        flow_records r(std::move(b), "bad.fpr");
    } catch (const format_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("flow records: a hand-built file reads back field by field") {
    flow_records r(encode(strings3, two_flows()), "mem.fpr");
    REQUIRE(r.flow_count() == 2);
    CHECK(r.packet_count() == 5);
    const auto& a = r.flow(0);
    CHECK(a.key.src.str() == "10.0.0.1");
    CHECK(a.key.dst.str() == "10.0.0.2");
    CHECK(a.key.sport == 40000);
    CHECK(a.key.dport == 443);
    CHECK(a.key.proto == 6);
    CHECK(a.key.session == 1);
    CHECK(a.label == category::video);
    CHECK_FALSE(a.vpn);
    CHECK(a.application == "hls-https");
    CHECK(a.capture == "video/video-plain-000.pcap");
    CHECK(a.packets == 3);
    const auto& b = r.flow(1);
    CHECK(b.label == category::voip);
    CHECK(b.vpn);
    CHECK(b.application == "opus-srtp");
    CHECK(b.key.proto == 17);
    CHECK(b.key.session == 2);
    CHECK(b.first_packet == 3);

    std::vector<packet> p;
    r.packets_of(0, p);
    REQUIRE(p.size() == 3);
    CHECK(p[0].time_ns == a.first_ns);
    CHECK(p[1].time_ns == a.first_ns + 10'000);
    CHECK(p[2].time_ns == a.first_ns + 2'000'000'000);
    CHECK(p[0].size == 1500);
    CHECK(p[2].size == 52);
    CHECK(p[0].dir == direction::forward);
    CHECK(p[2].dir == direction::reverse);
    CHECK(r.packet_of(1, 1).size == 80);
    CHECK(r.packet_of(1, 1).time_ns == b.first_ns + 20'000'000);

    // as a packet source: every packet once, flow after flow, each with its flow's key
    keyed_packet kp;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> seen;  // (session, size)
    while (r.next(kp)) {
        seen.emplace_back(kp.key.session, kp.pkt.size);
        CHECK(r.flow(r.current_flow()).key == kp.key);
    }
    CHECK(seen == std::vector<std::pair<std::uint32_t, std::uint32_t>>{{1, 1500}, {1, 1500}, {1, 52}, {2, 120}, {2, 80}});
    r.rewind();
    CHECK(r.next(kp));
    CHECK(kp.pkt.size == 1500);
}

TEST_CASE("flow records: category names follow the reference's label order") {
    CHECK(static_cast<int>(source::parse_category("voip").value()) == 0);
    CHECK(static_cast<int>(source::parse_category("browsing").value()) == 4);
    CHECK(source::name(category::file_transfer) == "file_transfer");
    CHECK_FALSE(source::parse_category("email").has_value());
}

TEST_CASE("flow records: bad files raise format_error naming the file and byte offset") {
    const auto good = encode(strings3, two_flows());
    REQUIRE(error_of(good).empty());
    const std::size_t fo = 64 + 2 + 9 + 2 + 26 + 2 + 9;  // flows start after the three strings
    const std::size_t po = fo + 2 * 64;

    auto b = good;
    b[0] = 'X';
    CHECK(error_of(b).find("bad.fpr: byte offset 0: not a flowpic flow-records file") == 0);

    b = good;
    b[8] = 2;
    CHECK(error_of(b).find("byte offset 8: unsupported version 2") != std::string::npos);

    b = good;
    b.erase(b.end() - 3, b.end());  // resize(size - 3) trips GCC 12's -Wstringop-overflow
    CHECK(error_of(b).find("byte offset " + std::to_string(good.size() - 3) + ": file size is") != std::string::npos);

    CHECK(error_of(std::vector<std::uint8_t>(good.begin(), good.begin() + 20)).find("byte offset 0: truncated header") !=
          std::string::npos);

    b = good;
    b[fo + 37] = 5;
    CHECK(error_of(b).find("byte offset " + std::to_string(fo + 37) + ": flow 0: address family 5") != std::string::npos);

    b = good;
    b[fo + 64 + 38] = 7;
    CHECK(error_of(b).find("byte offset " + std::to_string(fo + 64 + 38) + ": flow 1: category 7") != std::string::npos);

    b = good;
    b[fo + 39] = 2;
    CHECK(error_of(b).find("flow 0: vpn flag 2") != std::string::npos);

    b = good;
    b[fo + 40] = 3;
    CHECK(error_of(b).find("byte offset " + std::to_string(fo + 40) + ": flow 0: application string out of range") !=
          std::string::npos);

    b = good;
    b[fo + 64 + 56] = 2;  // flow 1 claims to start at packet 2
    CHECK(error_of(b).find("flow 1: first packet 2, expected 3") != std::string::npos);

    b = good;
    b[fo + 44] = 4;  // flow 0 claims 4 packets: the totals no longer add up
    CHECK(!error_of(b).empty());

    b = good;
    b[po + 12] = 0;  // packet 2 of flow 0 at 0 us, before packet 1 at 10 us
    b[po + 13] = 0;
    b[po + 14] = 0;
    b[po + 15] = 0;
    CHECK(error_of(b).find("byte offset " + std::to_string(po + 12) + ": flow 0: packet time goes backwards") !=
          std::string::npos);

    b = good;
    b[po + 6 * 3 + 4] = 0;
    b[po + 6 * 3 + 5] = 0;
    CHECK(error_of(b).find("byte offset " + std::to_string(po + 6 * 3 + 4) + ": flow 1: packet of size 0") !=
          std::string::npos);

    b = good;
    b[fo + 64 + 55] = 0x7f;  // flow 1's first packet near the end of int64: its packets' times would overflow
    CHECK(error_of(b).find("byte offset " + std::to_string(fo + 64 + 48) + ": flow 1: first packet time") !=
          std::string::npos);

    b = good;
    b[23] = 0x27;  // 654 M strings in a 39-byte table: refused before anything is allocated for them
    CHECK(error_of(b).find("byte offset 20: string count") != std::string::npos);

    b = good;
    b[64] = 0xff;  // first string longer than the string table
    CHECK(error_of(b).find("byte offset 66: truncated string") != std::string::npos);

    // every truncation point of the file is an error, never a crash
    for (std::size_t n = 0; n < good.size(); ++n)
        CHECK_MESSAGE(!error_of(std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<long>(n))).empty(),
                      "length " << n);
}

TEST_CASE("flow records: a missing file is an io_error") {
    CHECK_THROWS_AS(flow_records("/nonexistent/lab.fpr"), io_error);
}

namespace {

using flow_id = std::tuple<std::string, std::string, std::uint16_t, std::uint16_t, std::uint8_t>;
struct flow_sum {
    std::uint64_t packets = 0, bytes = 0;
    std::int64_t first = 0, last = 0;
    bool operator==(const flow_sum&) const = default;
};

flow_id id_of(const flow_key& k) { return {k.src.str(), k.dst.str(), k.sport, k.dport, k.proto}; }

}  // namespace

TEST_CASE("flow records: the committed sample's records equal flowpic's flows of the sample capture") {
    const std::string pcap = test::repo("data/lab/sample/lab-sample.pcap");
    const std::string recs = test::repo("data/lab/sample/lab-sample.fpr");
    std::map<flow_id, flow_sum> from_pcap, from_records;

    source::pcap_file<> src(pcap);
    flows::flow_table<flows::unidirectional> table;
    flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) {
                                 from_pcap[id_of(f.key)] = {f.packets, f.bytes, f.first_ns, f.last_ns};
                             }};
    table.consume(src, out);

    flow_records r(recs);
    std::vector<packet> p;
    std::map<std::string, int> categories;
    for (std::size_t i = 0; i < r.flow_count(); ++i) {
        p.clear();
        r.packets_of(i, p);
        flow_sum s{p.size(), 0, p.front().time_ns, p.back().time_ns};
        for (const auto& q : p) s.bytes += q.size;
        CHECK_MESSAGE(from_records.emplace(id_of(r.flow(i).key), s).second, "duplicate flow " << i);
        ++categories[std::string(source::name(r.flow(i).label))];
    }
    CHECK(categories.size() == 5);  // the sample holds all five categories
    REQUIRE(from_records.size() == from_pcap.size());
    CHECK(from_records == from_pcap);

    // the same 15 s blocks, and each one traced back to its flow's label
    const auto blocks_of = [](auto& input, auto&& on_block) {
        blocks::windowed_table<flows::unidirectional> t({}, blocks::specs::counted15);
        flows::callback_sink s{on_block, flows::ignore{}};
        t.consume(input, s);
    };
    std::map<std::pair<flow_id, std::uint64_t>, std::size_t> pcap_blocks, record_blocks;
    source::pcap_file<> again(pcap);
    blocks_of(again, [&](const blocks::block& b) { pcap_blocks[{id_of(b.owner->key), b.index}] = b.size(); });
    r.rewind();
    std::map<std::string, int> labelled;
    blocks_of(r, [&](const blocks::block& b) {
        record_blocks[{id_of(b.owner->key), b.index}] = b.size();
        const auto& f = r.flow(b.owner->key.session - 1);
        CHECK(id_of(f.key) == id_of(b.owner->key));
        ++labelled[std::string(source::name(f.label))];
    });
    CHECK(record_blocks.size() > 20);
    CHECK(record_blocks == pcap_blocks);
    CHECK(labelled.size() == 5);
}

TEST_CASE("flow records: the committed dataset matches the writer's per-category summary") {
    // one folder per category (scripts/lab/split_dataset.py); every flow sits in its category's folder
    std::map<std::pair<std::string, std::string>, std::array<std::uint64_t, 3>> got, want;
    std::vector<packet> p;
    std::size_t files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(test::repo("data/lab/dataset"))) {
        if (e.path().extension() != ".fpr") continue;
        ++files;
        CHECK(std::filesystem::file_size(e.path()) <= (4u << 20));
        flow_records r(e.path().string());
        for (std::size_t i = 0; i < r.flow_count(); ++i) {
            const auto& f = r.flow(i);
            CHECK(std::string(source::name(f.label)) == e.path().parent_path().filename().string());
            p.clear();
            r.packets_of(i, p);
            auto& g = got[{std::string(source::name(f.label)), f.vpn ? "yes" : "no"}];
            ++g[0];
            g[1] += p.size();
            for (const auto& q : p) g[2] += q.size;
        }
    }
    CHECK(files >= 10);
    std::ifstream in(test::repo("data/lab/dataset/summary.csv"));
    REQUIRE(in);
    std::string line;
    std::getline(in, line);
    CHECK(line == "category,vpn,flows,packets,bytes");
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string c, v, n, pk, by;
        std::getline(ss, c, ',');
        std::getline(ss, v, ',');
        std::getline(ss, n, ',');
        std::getline(ss, pk, ',');
        std::getline(ss, by, ',');
        want[{c, v}] = {std::stoull(n), std::stoull(pk), std::stoull(by)};
    }
    CHECK(want.size() == 10);  // five categories, plain and VPN
    CHECK(got == want);
}
