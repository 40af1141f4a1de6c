// Label maps (nDPI verdict -> class) and label files (labels/): parsing, precedence, errors that
// name the line, and finding a flow's row from either direction.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "flowpic/labels/label_file.hpp"
#include "flowpic/labels/label_map.hpp"
#include "format_error_of.hpp"

using namespace flowpic;
using namespace flowpic::labels;

namespace {

flow_key key(const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport, std::uint8_t proto) {
    flow_key k;
    k.src = *ip_address::parse(src);
    k.dst = *ip_address::parse(dst);
    k.sport = sport;
    k.dport = dport;
    k.proto = proto;
    return k;
}

}  // namespace

TEST_CASE("the default label map: application before category, master before application part") {
    const auto& m = default_map();
    CHECK(m.classify("TLS.YouTube", "Media") == "video");
    CHECK(m.classify("QUIC.YouTube", "Web") == "video");     // the application outranks the category
    CHECK(m.classify("DNS.YouTube", "Media") == "ignore");   // a lookup is DNS traffic, whatever it looks up
    CHECK(m.classify("HTTP", "Web") == "browsing");
    CHECK(m.classify("QUIC.Google", "Web") == "browsing");
    CHECK(m.classify("WhatsApp", "Chat") == "chat");
    CHECK(m.classify("STUN.WhatsAppCall", "VoIP") == "voip");
    CHECK(m.classify("RTP", "Media") == "voip");
    CHECK(m.classify("BitTorrent", "Download") == "file_transfer");
    CHECK(m.classify("HTTP", "Streaming") == "video");
    CHECK(m.classify("TLS.Google", "Advertisement") == "ignore");
    CHECK(m.classify("Unknown", "Unspecified").empty());
    CHECK(m.classify("", "Web").empty());
    CHECK(m.classify("SomethingNew", "NoSuchCategory").empty());
    CHECK(m.classes() == std::vector<std::string>{"browsing", "chat", "file_transfer", "video", "voip"});
    CHECK(m.text() == default_map_text);
}

TEST_CASE("a user's label map replaces the default; its errors name the line") {
    const auto m = label_map::parse("# mine\nkind,name,class\n\ncategory,Web,web\napplication,\"TLS.Netflix\",tv\n", "my.csv");
    CHECK(m.classify("TLS.Netflix", "Video") == "tv");
    CHECK(m.classify("HTTP", "Web") == "web");
    CHECK(m.classify("HTTP", "Chat").empty());
    CHECK(m.classes() == std::vector<std::string>{"tv", "web"});
    CHECK(test::format_error_of([] { (void)label_map::parse("kind,name\n", "a.csv"); }) ==
          "a.csv:1: a label map starts with the header kind,name,class");
    CHECK(test::format_error_of([] { (void)label_map::parse("kind,name,class\ncategory,Web,browsing\nprotocol,X,chat\n", "a.csv"); }) ==
          "a.csv:3: kind 'protocol': application or category");
    CHECK(test::format_error_of([] { (void)label_map::parse("kind,name,class\ncategory,Web\n", "a.csv"); }) ==
          "a.csv:2: expected 3 fields (kind,name,class), got 2");
    CHECK(test::format_error_of([] { (void)label_map::parse("kind,name,class\ncategory,Web,\n", "a.csv"); }) ==
          "a.csv:2: empty class (write ignore for traffic of no class)");
    CHECK(test::format_error_of([] { (void)label_map::parse("kind,name,class\ncategory,Web,a\ncategory,Web,b\n", "a.csv"); }) ==
          "a.csv:3: category 'Web' appears twice");
    CHECK(test::format_error_of([] { (void)label_map::parse("kind,name,class\ncategory,\"Web,browsing\n", "a.csv"); }) ==
          "a.csv:2: unbalanced quote");
    CHECK(test::format_error_of([] { (void)label_map::parse("", "a.csv"); }) ==
          "a.csv: empty label map: expected the header kind,name,class");
}

TEST_CASE("label files round-trip, and a flow finds its connection's row from either direction") {
    std::vector<flow_label> rows(3);
    rows[0] = {key("10.0.0.1", "142.250.1.1", 50000, 443, 17), 1'556'893'290'123'456'000, "QUIC.YouTube", "Media", "video"};
    rows[1] = {key("2001:db8::1", "2001:db8::2", 5060, 5060, 17), 1'556'893'291'000'000'000, "SIP", "VoIP", "voip"};
    rows[2] = {key("10.0.0.1", "142.250.1.1", 50000, 443, 17), 1'556'893'400'000'000'000, "Unknown", "Unspecified", ""};
    std::string text(label_file_header);
    text += '\n';
    for (const auto& r : rows) text += format_label_row(r) + '\n';
    CHECK(format_label_row(rows[0]) == "10.0.0.1,142.250.1.1,50000,443,17,1556893290.123456,QUIC.YouTube,Media,video");
    const auto back = parse_label_file(text, "l.csv");
    REQUIRE(back.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(back[i].key == rows[i].key);
        CHECK(back[i].first_ns == rows[i].first_ns);
        CHECK(back[i].application == rows[i].application);
        CHECK(back[i].category == rows[i].category);
        CHECK(back[i].cls == rows[i].cls);
    }
    const label_index index(back);
    const auto k = rows[0].key;
    CHECK(index.find(k, rows[0].first_ns) == &index.rows()[0]);
    CHECK(index.find(k.reversed(), rows[0].first_ns + 20'000'000) == &index.rows()[0]);  // the answer direction, later
    CHECK(index.find(k, rows[0].first_ns - 400) == &index.rows()[0]);                    // rounding slack
    CHECK(index.find(k, rows[0].first_ns - 5'000) == nullptr);                           // before the connection
    CHECK(index.find(k.reversed(), rows[2].first_ns + 1) == &index.rows()[2]);           // the 5-tuple reused
    CHECK(index.find(rows[1].key.reversed(), rows[1].first_ns) == &index.rows()[1]);
    CHECK(index.find(key("10.0.0.9", "142.250.1.1", 50000, 443, 17), rows[0].first_ns) == nullptr);
}

TEST_CASE("times before the epoch round-trip through a label file (found by fuzz_label_file)") {
    // floor-based digits once wrote -5.000001 s as "-6.999999", which reads back as -6.999999 s
    CHECK(epoch_seconds(-5'000'001'000) == "-5.000001");
    CHECK(epoch_seconds(-1'000) == "-0.000001");
    CHECK(epoch_seconds(-499) == "0.000000");
    CHECK(epoch_seconds(-501) == "-0.000001");
    for (const std::int64_t ns : {std::int64_t{-5'000'001'000}, std::int64_t{-1'000}, std::int64_t{-999'999'999'000},
                                  std::int64_t{-1'556'893'290'123'456'000}, std::int64_t{0}, std::int64_t{7'000}}) {
        flow_label r{key("10.0.0.1", "10.0.0.2", 1, 2, 6), ns, "TCP", "Network", "ignore"};
        const auto back = parse_label_file(std::string(label_file_header) + '\n' + format_label_row(r) + '\n', "l.csv");
        REQUIRE(back.size() == 1);
        CHECK(back[0].first_ns == ns);
    }
}

TEST_CASE("a bad label file names the line and the field") {
    const std::string h = std::string(label_file_header) + '\n';
    CHECK(test::format_error_of([] { (void)parse_label_file("src,dst\n", "l.csv"); }) ==
          "l.csv:1: not a label file: the first line must be src,dst,sport,dport,proto,first,application,category,class");
    CHECK(test::format_error_of([&] { (void)parse_label_file(h + "1.2.3.4,5.6.7.8,1,2,6,1.5,HTTP,Web\n", "l.csv"); }) ==
          "l.csv:2: expected 9 fields, got 8");
    CHECK(test::format_error_of([&] { (void)parse_label_file(h + "1.2.3.x,5.6.7.8,1,2,6,1.5,HTTP,Web,browsing\n", "l.csv"); }) ==
          "l.csv:2: src '1.2.3.x' is no IP address");
    CHECK(test::format_error_of([&] { (void)parse_label_file(h + "1.2.3.4,::1,1,2,6,1.5,HTTP,Web,browsing\n", "l.csv"); }) ==
          "l.csv:2: src and dst are of different IP versions");
    CHECK(test::format_error_of([&] { (void)parse_label_file(h + "1.2.3.4,5.6.7.8,70000,2,6,1.5,HTTP,Web,browsing\n", "l.csv"); }) ==
          "l.csv:2: sport '70000' is no port");
    CHECK(test::format_error_of([&] { (void)parse_label_file(h + "1.2.3.4,5.6.7.8,1,2,6,nan,HTTP,Web,browsing\n", "l.csv"); }) ==
          "l.csv:2: first 'nan' is no time in seconds");
    CHECK(test::format_error_of([&] { (void)parse_label_file(h + "\n1.2.3.4,5.6.7.8,1,2,300,1,HTTP,Web,browsing\n", "l.csv"); }) ==
          "l.csv:3: proto '300' is no IP protocol");
}
