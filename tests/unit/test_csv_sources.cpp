// The CSV and memory sources. Oracles: tests/fuzz/oracle/*.csv, the packets that independent
// Python re-implementations of each format's writer put in tests/fuzz/corpus (make_seeds.py, with
// dpkt); the synthetic capture itself read by pcap_file; hand-computed values; and small files
// written here, good and bad, whose errors must name the file and the line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/flows/flow_csv.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/authors_csv.hpp"
#include "flowpic/source/memory.hpp"
#include "flowpic/source/network_stats_csv.hpp"
#include "flowpic/source/packet_csv.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test run for the files written here, removed at exit.
struct scratch_dir {
    fs::path path = fs::temp_directory_path() / ("flowpic_csv_test_" + std::to_string(::getpid()));
    scratch_dir() { fs::create_directories(path); }
    ~scratch_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

const fs::path& scratch() {
    static const scratch_dir dir;
    return dir.path;
}

std::string write_file(const std::string& name, const std::string& text) {
    const fs::path p = scratch() / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
}

template <class S>
std::vector<keyed_packet> drain(S& s) {
    std::vector<keyed_packet> out;
    keyed_packet kp;
    while (s.next(kp)) out.push_back(kp);
    return out;
}

// The message of the format_error that f throws, or a note saying what happened instead.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const format_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("<not a format_error: ") + e.what() + ">";
    }
    return "<no error>";
}

// Reads every packet of `path` with a source of type S and returns the error message.
template <class S>
std::string read_error(const std::string& path) {
    return error_of([&] {
        S s(path);
        keyed_packet kp;
        while (s.next(kp)) {
        }
    });
}

bool names_line(const std::string& msg, const std::string& path, int line) {
    return msg.find(path + ":" + std::to_string(line) + ":") != std::string::npos;
}

#define CHECK_ERROR(S, text, line, fragment)                                                   \
    do {                                                                                        \
        static int n_ = 0;                                                                      \
        const std::string p_ = write_file("bad_" + std::to_string(__LINE__) + "_" +             \
                                          std::to_string(n_++) + ".csv", text);                 \
        const std::string m_ = read_error<S>(p_);                                               \
        INFO("message: " << m_);                                                                \
        CHECK(names_line(m_, p_, line));                                                        \
        CHECK(m_.find(fragment) != std::string::npos);                                          \
    } while (0)

struct oracle_packet {
    std::string src, dst;
    unsigned sport, dport, proto, session;
    std::int64_t time_ns;
    std::uint32_t size;
    int dir;
};

std::vector<oracle_packet> read_oracle(const std::string& name) {
    std::ifstream in(test::repo("tests/fuzz/oracle/" + name + ".csv"));
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    std::vector<oracle_packet> out;
    while (std::getline(in, line)) {
        std::replace(line.begin(), line.end(), ',', ' ');
        std::istringstream f(line);
        oracle_packet o{};
        f >> o.src >> o.dst >> o.sport >> o.dport >> o.proto >> o.session >> o.time_ns >> o.size >> o.dir;
        REQUIRE(!f.fail());
        out.push_back(o);
    }
    return out;
}

void check_against_oracle(const std::vector<keyed_packet>& got, const std::vector<oracle_packet>& want,
                          bool direction_known) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("packet " << i);
        const auto& g = got[i];
        const auto& w = want[i];
        CHECK(g.key.src.str() == w.src);
        CHECK(g.key.dst.str() == w.dst);
        CHECK(g.key.sport == w.sport);
        CHECK(g.key.dport == w.dport);
        CHECK(g.key.proto == w.proto);
        CHECK(g.key.session == w.session);
        CHECK(g.pkt.time_ns == w.time_ns);
        CHECK(g.pkt.size == w.size);
        CHECK(static_cast<int>(g.pkt.dir) == w.dir);
        CHECK(g.direction_known == direction_known);
    }
}

std::string corpus(const std::string& rel) { return test::repo("tests/fuzz/corpus/" + rel); }

}  // namespace

TEST_CASE("seconds parse exactly to nanoseconds") {
    using source::detail::parse_seconds_ns;
    std::int64_t v = -1;
    const std::pair<const char*, std::int64_t> good[] = {
        {"0", 0},
        {"0.0", 0},
        {"1e-06", 1000},
        {"5.1e-05", 51000},
        {"1.5E+3", 1'500'000'000'000},
        {"1600000000.123456", 1'600'000'000'123'456'000},
        {"1454355614.1234567891", 1'454'355'614'123'456'789},  // beyond 1 ns: rounded
        {"0.0000000015", 2},
        {"1454355614.1234567895", 1'454'355'614'123'456'790},
        {"0.0000000005", 1},
        {"0.0000000004", 0},
        {"-1.5", -1'500'000'000},
        {".5", 500'000'000},
        {"7.", 7'000'000'000},
        {"9223372036.854775807", INT64_MAX},
        {"00012.000", 12'000'000'000},
    };
    for (const auto& [text, ns] : good) {
        INFO(text);
        REQUIRE(parse_seconds_ns(text, v));
        CHECK(v == ns);
    }
    for (const char* bad : {"", ".", "-", "e5", "1e", "1.2.3", " 1", "1 ", "nan", "inf", "0x10", "1,5", "9223372036.854775808",
                            "1e300", "+"}) {
        INFO(bad);
        CHECK_FALSE(parse_seconds_ns(bad, v));
    }
}

TEST_CASE("authors' CSV: the packets of TrafficParser's rows, at full precision") {
    source::authors_csv s(corpus("authors_csv/synthetic.csv"));
    const auto got = drain(s);
    check_against_oracle(got, read_oracle("authors_csv"), false);
    CHECK(s.rows() == 2);
    CHECK(s.pcap_name() == "synthetic");
}

TEST_CASE("authors' CSV agrees with the capture it was made from") {
    // The capture's IPv4 TCP/UDP packets grouped by 5-tuple, in capture order, must be the CSV's rows.
    source::pcap_file<> cap(corpus("pcap/synthetic.pcap"));
    std::map<std::string, std::vector<packet>> by_key;
    keyed_packet kp;
    while (cap.next(kp))
        if (kp.key.src.family == ip_family::v4) by_key[flows::key_csv(kp.key)].push_back(kp.pkt);
    source::authors_csv csv(corpus("authors_csv/synthetic.csv"));
    std::map<std::string, std::vector<packet>> from_csv;
    while (csv.next(kp)) {
        flow_key k = kp.key;
        k.session = 0;
        from_csv[flows::key_csv(k)].push_back(kp.pkt);
    }
    REQUIRE(by_key.size() == 2);
    CHECK(from_csv == by_key);
}

TEST_CASE("network-stats CSV: per-second rows become keyed, directed packets") {
    source::network_stats_csv<protocols::any_ip> all(corpus("network_stats_csv/synthetic.csv"));
    check_against_oracle(drain(all), read_oracle("network_stats_csv"), true);
    CHECK(all.rows() == 11);

    // The default keeps TCP and UDP only: the two pings are counted, not handed out.
    source::network_stats_csv s(corpus("network_stats_csv/synthetic.csv"));
    const auto tcp_udp = drain(s);
    CHECK(tcp_udp.size() + 2 == read_oracle("network_stats_csv").size());
    CHECK(s.stats().other_protocol == 2);
    CHECK(s.stats().packets == tcp_udp.size());
    for (const auto& p : tcp_udp) CHECK((p.key.proto == 6 || p.key.proto == 17));
}

TEST_CASE("network-stats CSV and the capture give the same connections and directions") {
    // Same packets up to the clock (milliseconds, truncated) and the order within a second.
    source::pcap_file<> cap(corpus("pcap/synthetic.pcap"));
    std::multiset<std::string> a, b;
    keyed_packet kp;
    while (cap.next(kp))
        a.insert(flows::key_csv(kp.key) + "," + std::to_string(kp.pkt.size) + "," + std::to_string(kp.pkt.time_ns / 1'000'000));
    source::network_stats_csv csv(corpus("network_stats_csv/synthetic.csv"));
    while (csv.next(kp))
        b.insert(flows::key_csv(kp.key) + "," + std::to_string(kp.pkt.size) + "," + std::to_string(kp.pkt.time_ns / 1'000'000));
    CHECK(a == b);
}

TEST_CASE("per-packet session CSV: sessions, signs and keys") {
    source::packet_csv s(corpus("packet_csv/synthetic.csv"));
    check_against_oracle(drain(s), read_oracle("packet_csv"), true);
    REQUIRE(s.sessions() == 2);
    CHECK(s.session_name(1) == "4_tcp");
    CHECK(s.session_name(2) == "6_udp");
    CHECK_THROWS_AS((void)s.session_name(3), std::out_of_range);
}

TEST_CASE("per-packet session CSV through the flow table: 2 flows per session, or 1 oriented client -> server") {
    const std::string path = write_file("sessions.csv",
                                        "session,a\nrel_ts_us,len\n0,-1400\n5,100\n7,-1300\n"
                                        "session,b\r\nrel_ts_us,len\r\n0,60\r\n3,-1500\r\n");
    std::vector<flows::flow> uni, bi;
    {
        source::packet_csv s(path);
        flows::flow_table<flows::unidirectional> t;
        flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) { uni.push_back(f); }};
        t.consume(s, out);
    }
    {
        source::packet_csv s(path);
        flows::flow_table<flows::bidirectional> t;
        flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) { bi.push_back(f); }};
        t.consume(s, out);
    }
    REQUIRE(uni.size() == 4);
    CHECK(uni[0].key == source::packet_csv::session_key(1).reversed());  // session a starts downstream
    CHECK(uni[0].packets == 2);
    CHECK(uni[0].bytes == 2700);
    CHECK(uni[1].key == source::packet_csv::session_key(1));
    CHECK(uni[1].bytes == 100);
    REQUIRE(bi.size() == 2);
    for (std::uint32_t i = 0; i < 2; ++i) {
        CHECK(bi[i].key == source::packet_csv::session_key(i + 1));  // client -> server
        CHECK(bi[i].key.src.family == ip_family::none);
    }
    CHECK(bi[0].packets == 3);
    CHECK(bi[0].bytes == 2800);
    CHECK(bi[1].bytes == 1560);
}

TEST_CASE("long rows stream through fixed buffers") {
    // 50,000 packets in one authors' row (about 700 KB) and one network-stats row.
    const int n = 50'000;
    std::string times, sizes;
    for (int i = 0; i < n; ++i) {
        times += i == 0 ? std::string("0.0") : std::to_string(i) + "e-06";
        times += ',';
        sizes += ',';  // (GCC 12 warns falsely about "," + std::string: -Wrestrict)
        sizes += std::to_string(40 + i % 1400);
    }
    const std::string authors = write_file("long_authors.csv", "\"cap, long\",10.1.2.3,1,10.3.2.1,2,UDP,100.5," +
                                                                   std::to_string(n) + "," + times + sizes + "\r\n" +
                                                                   "x,::1,7,::2,8,tcp,1,1,0.0,,60\n");
    source::authors_csv a(authors);
    const auto got = drain(a);
    REQUIRE(got.size() == static_cast<std::size_t>(n + 1));
    for (int i = 0; i < n; ++i) {
        REQUIRE(got[static_cast<std::size_t>(i)].pkt.time_ns == 100'500'000'000 + i * 1000);
        REQUIRE(got[static_cast<std::size_t>(i)].pkt.size == static_cast<std::uint32_t>(40 + i % 1400));
    }
    CHECK(got[0].key.proto == 17);
    CHECK(got.back().key.src.str() == "::1");
    CHECK(got.back().key.proto == 6);
    CHECK(got.back().key.session == 2);
    CHECK(a.pcap_name() == "x");

    // Short lines across many buffer refills.
    std::string rows = "session,long\r\nrel_ts_us,len\r\n";
    std::int64_t sum = 0;
    for (int i = 0; i < n; ++i) {
        const int len = (i % 7 ? -1 : 1) * (i % 1500);
        sum += len;
        rows += std::to_string(i * 10) + "," + std::to_string(len) + "\r\n";
    }
    source::packet_csv pc(write_file("long_packets.csv", rows));
    const auto got3 = drain(pc);
    REQUIRE(got3.size() == static_cast<std::size_t>(n));
    std::int64_t sum3 = 0;
    for (int i = 0; i < n; ++i) {
        const auto& p = got3[static_cast<std::size_t>(i)];
        REQUIRE(p.pkt.time_ns == i * 10'000);
        sum3 += p.pkt.dir == direction::reverse ? -std::int64_t{p.pkt.size} : std::int64_t{p.pkt.size};
    }
    CHECK(sum3 == sum);
    CHECK(pc.line() == static_cast<std::uint64_t>(n + 2));

    std::string t, s, d;
    for (int i = 0; i < n; ++i) {
        t += std::to_string(1'000'000 + i) + ";";
        s += std::to_string(i % 1500) + ";";
        d += (i % 3 ? "2;" : "1;");
    }
    const std::string ns = write_file("long_ns.csv", "packet_dirs,IP2,Port2,packet_sizes,IP1,Port1,Proto,extra,packet_times\n" +
                                                         d + ",1.1.1.1,443," + s + ",192.168.0.1,5000,6,\"a,b\"," + t + "\n");
    source::network_stats_csv b(ns);
    const auto got2 = drain(b);
    REQUIRE(got2.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        const auto& p = got2[static_cast<std::size_t>(i)];
        REQUIRE(p.pkt.time_ns == (1'000'000 + i) * std::int64_t{1'000'000});
        REQUIRE(p.pkt.size == static_cast<std::uint32_t>(i % 1500));
        REQUIRE(p.pkt.dir == (i % 3 ? direction::reverse : direction::forward));
        REQUIRE(p.key.sport == (i % 3 ? 443 : 5000));
    }
}

TEST_CASE("authors' CSV: malformed rows name the file and line") {
    using S = source::authors_csv;
    const std::string ok = "c,1.2.3.4,1,5.6.7.8,2,TCP,10.0,2,0.0,0.5,,100,200\r\n";
    CHECK_ERROR(S, "", 1, "empty file");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10.0\n", 2, "expected at least 9");
    CHECK_ERROR(S, ok + ok + "c,1.2.3.4,x,5.6.7.8,2,TCP,10.0,1,0.0,,1\n", 3, "port_src");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,70000,TCP,10.0,1,0.0,,1\n", 2, "port_dst");
    CHECK_ERROR(S, ok + "c,1.2.3.400,1,5.6.7.8,2,TCP,10.0,1,0.0,,1\n", 2, "ip_src");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,ICMPX,10.0,1,0.0,,1\n", 2, "proto");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,ten,1,0.0,,1\n", 2, "start_time");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,-1,0.0,,1\n", 2, "length");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,3,0.0,0.1,,1,2\n", 2, "length does not match");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,2,0.0,0.1,,1,2,3\n", 2, "more sizes");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,3,0.0,0.1,0.2,,1,2\n", 2, "fewer sizes");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,9,0.0,0.1\n", 2, "row ends before its 9 times");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,2,0.0,abc,,1,2\n", 2, "time 2");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,2,0.5,0.25,,1,2\n", 2, "out of order");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,2,-0.5,0.25,,1,2\n", 2, "time 1");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,2,0.0,0.25,,1,65536\n", 2, "size 2");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,2,0.0,0.25,,-1,2\n", 2, "size 1");
    CHECK_ERROR(S, ok + "c,1.2.3.4,1,5.6.7.8,2,TCP,1e30,1,0.0,,1\n", 2, "start_time");
    CHECK_ERROR(S, ok + "\"c\"x,1.2.3.4,1,5.6.7.8,2,TCP,10,1,0.0,,1\n", 2, "after the closing quote");
    CHECK_ERROR(S, ok + "\"c,1.2.3.4,1,5.6.7.8,2,TCP,10,1,0.0,,1\n", 2, "line break inside a quoted field");
    CHECK_ERROR(S, std::string(70'000, 'n') + ",1.2.3.4\n", 1, "longer than");
    // Blank lines are skipped and still counted.
    CHECK_ERROR(S, ok + "\r\n\n" + "c,1.2.3.4,1,5.6.7.8,2,TCP,10,1,0.0,,x\n", 4, "size 1");
}

TEST_CASE("network-stats CSV: malformed rows name the file and line") {
    using S = source::network_stats_csv<protocols::any_ip>;
    const std::string h = "Time,IP1,Port1,IP2,Port2,Proto,1->2Bytes,2->1Bytes,1->2Pkts,2->1Pkts,packet_times,packet_sizes,packet_dirs\n";
    const std::string ok = "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;50;,1;2;\n";
    CHECK_ERROR(S, "", 1, "empty file");
    CHECK_ERROR(S, ok, 1, "header missing");
    CHECK_ERROR(S, "Time,IP1,Port1,IP2,Port2,Proto,packet_times,packet_sizes\n", 1, "packet_dirs");
    CHECK_ERROR(S, "IP1,IP1,Port1,IP2,Port2,Proto,packet_times,packet_sizes,packet_dirs\n", 1, "twice");
    CHECK_ERROR(S, h + ok + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;50;\n", 3, "row has 12 fields");
    CHECK_ERROR(S, h + ok + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;50;,1;2;,x\n", 3, "more fields");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;,1;2;\n", 2, "length mismatch");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001,100;50;,1;2;\n", 2, "';'-terminated");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;50;,1;3;\n", 2, "packet_dirs item 2");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;70000;,1;2;\n", 2, "packet_sizes item 2");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;999;,100;50;,1;2;\n", 2, "out of order");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;x;,100;50;,1;2;\n", 2, "packet_times item 2");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;;,100;50;,1;2;\n", 2, "packet_times item 2");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,2,1,1000;1001;,100;50;,1;2;\n", 2, "1->2Pkts");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,17,100,51,1,1,1000;1001;,100;50;,1;2;\n", 2, "2->1Bytes");
    CHECK_ERROR(S, h + "1,10.0.0.1,http,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;50;,1;2;\n", 2, "Port1");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,host,2,17,100,50,1,1,1000;1001;,100;50;,1;2;\n", 2, "IP2");
    CHECK_ERROR(S, h + "1,10.0.0.1,1,10.0.0.2,2,300,100,50,1,1,1000;1001;,100;50;,1;2;\n", 2, "Proto");
    CHECK_ERROR(S, h + "now,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;50;,1;2;\n", 2, "Time");
    CHECK_ERROR(S, h + ok + "\n" + ok + "1,10.0.0.1,1,10.0.0.2,2,17,100,50,1,1,1000;1001;,100;50;,1;0;\n", 5, "packet_dirs");
}

TEST_CASE("per-packet session CSV: malformed lines name the file and line") {
    using S = source::packet_csv;
    const std::string ok = "session,x\nrel_ts_us,len\n0,100\n";
    CHECK_ERROR(S, "", 1, "empty file");
    CHECK_ERROR(S, "rel_ts_us,len\n0,100\n", 1, "session");
    CHECK_ERROR(S, "session,x\n0,100\n", 2, "header missing");
    CHECK_ERROR(S, "session,x\n", 2, "header missing");
    CHECK_ERROR(S, ok + "session,y\nrel_ts_us,size\n", 5, "header missing");
    CHECK_ERROR(S, "session,\nrel_ts_us,len\n", 1, "empty session id");
    CHECK_ERROR(S, "session,a,b\nrel_ts_us,len\n", 1, "2 fields");
    CHECK_ERROR(S, ok + "5,100,7\n", 4, "found more");
    CHECK_ERROR(S, ok + "5\n", 4, "found 1");
    CHECK_ERROR(S, ok + "five,100\n", 4, "rel_ts_us");
    CHECK_ERROR(S, ok + "-5,100\n", 4, "rel_ts_us");
    CHECK_ERROR(S, ok + "5,1e3\n", 4, "len");
    CHECK_ERROR(S, ok + "5,-65536\n", 4, "beyond 65535");
    CHECK_ERROR(S, ok + "5,65536\n", 4, "beyond 65535");
    CHECK_ERROR(S, ok + "99999999999999999999,1\n", 4, "rel_ts_us");
}

TEST_CASE("visit_file opens every format by its content") {
    auto kind = [](const std::string& path) {
        std::string name;
        source::visit_file(path, [&](auto& s) {
            using T = std::remove_cvref_t<decltype(s)>;
            if constexpr (std::is_same_v<T, source::authors_csv>) name = "authors";
            else if constexpr (std::is_same_v<T, source::network_stats_csv<>>) name = "network_stats";
            else if constexpr (std::is_same_v<T, source::packet_csv>) name = "packet";
            else name = "pcap";
            keyed_packet kp;
            while (s.next(kp)) {
            }
        });
        return name;
    };
    CHECK(kind(corpus("pcap/synthetic.pcap")) == "pcap");
    CHECK(kind(corpus("authors_csv/synthetic.csv")) == "authors");
    CHECK(kind(corpus("network_stats_csv/synthetic.csv")) == "network_stats");
    CHECK(kind(corpus("packet_csv/synthetic.csv")) == "packet");
    CHECK(kind(write_file("bom.csv", "\xEF\xBB\xBFsession,1\r\nrel_ts_us,len\r\n0,5\r\n")) == "packet");
    CHECK(source::sniff_format(write_file("w.bin", std::string("FLOWPIC1\x01\0\0\0", 12))) == source::file_format::flowpic1);

    const std::string text = write_file("other.csv", "a,b,c\n1,2,3\n");
    const std::string m = error_of([&] { (void)kind(text); });
    CHECK(names_line(m, text, 1));
    CHECK(m.find("known CSV format") != std::string::npos);
    const std::string empty = write_file("empty.bin", "");
    CHECK(error_of([&] { (void)kind(empty); }).find("empty file") != std::string::npos);
    CHECK_THROWS_AS((void)kind((scratch() / "missing.csv").string()), io_error);

    // Binary files that are no capture go to libpcap, which refuses them: no descriptor may leak.
    const std::string junk = write_file("junk.bin", std::string("\x01\x02\x03\x04 not a capture"));
    auto open_fds = [] {
        int n = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
        return n;
    };
    const int before = open_fds();
    for (int i = 0; i < 50; ++i) CHECK_THROWS_AS((void)kind(junk), format_error);
    CHECK(open_fds() == before);
}

TEST_CASE("memory source: keyed packets as they are, or one flow under one key") {
    flow_key k;
    k.src = *ip_address::parse("10.0.0.1");
    k.dst = *ip_address::parse("10.0.0.2");
    k.sport = 1000;
    k.dport = 443;
    k.proto = 6;
    const std::vector<packet> pk = {{0, 100, direction::forward}, {5, 1500, direction::reverse}, {9, 60, direction::forward}};

    source::memory known(pk, k, true);
    auto got = drain(known);
    REQUIRE(got.size() == 3);
    CHECK(got[0].key == k);
    CHECK(got[1].key == k.reversed());
    CHECK(got[1].pkt == pk[1]);
    CHECK(got[2].direction_known);

    source::memory unknown(pk, k);
    got = drain(unknown);
    REQUIRE(got.size() == 3);
    CHECK(got[1].key == k);
    CHECK(got[1].pkt.dir == direction::forward);
    CHECK_FALSE(got[1].direction_known);
    CHECK(unknown.remaining() == 0);
    unknown.rewind();
    CHECK(unknown.remaining() == 3);

    // Through a bidirectional table: one flow, 1 packet reverse, whichever way it was keyed.
    for (bool dir_known : {true, false}) {
        source::memory m(pk, k, dir_known);
        blocks::windowed_table<flows::bidirectional> t(flows::limits{}, blocks::specs::whole_flow);
        flows::callback_sink out{flows::ignore{}, flows::ignore{}};
        t.add(keyed_packet{}, out);  // an unrelated empty-key packet opens another flow
        keyed_packet kp;
        while (m.next(kp)) t.add(kp, out);
        std::vector<flows::flow> ended;
        std::vector<std::vector<packet>> kept;  // each flow's packets, in its one whole-flow block
        flows::callback_sink out2{[&](const blocks::block& b) { kept.emplace_back(b.packets.begin(), b.packets.end()); },
                                  [&](const flows::flow& f, flows::end_reason) { ended.push_back(f); }};
        t.finish(out2);
        REQUIRE(ended.size() == 2);
        REQUIRE(kept.size() == 2);
        CHECK(ended[1].key == k);
        CHECK(ended[1].packets == 3);
        int reverse = 0;
        for (const auto& p : kept[1]) reverse += p.dir == direction::reverse;
        CHECK(reverse == (dir_known ? 1 : 0));
    }

    const std::vector<keyed_packet> kps = {{k, {1, 2, direction::forward}, false}, {k.reversed(), {3, 4, direction::forward}, false}};
    source::memory keyed(kps);
    got = drain(keyed);
    REQUIRE(got.size() == 2);
    CHECK(got[1].key == k.reversed());
    CHECK(got[1].pkt.size == 4);
}
