// The pcapng conformance suite (../shared/data/fixtures/pcapng-suite/{le,be}) against what
// Wireshark says about each file (tests/data/pcapng_suite_expected.csv, written by
// scripts/make_pcapng_expectations.sh from capinfos and tshark).
//
// libpcap 1.10, which pcap_file reads through, refuses valid files whose interfaces differ in
// link type or snap length, and files without an interface: those must fail with a clear
// format_error after a correct prefix of the packets, or (once flowpic reads them) match Wireshark.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == '\r') continue;
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

std::vector<std::string> list(const std::string& s) { return s.empty() ? std::vector<std::string>{} : split(s, '|'); }

struct expectation {
    std::string file;
    bool ok = false;
    std::size_t packets = 0;
    std::size_t interfaces = 0;
    std::vector<std::string> linktypes, snaplens, ip_sizes, times_ns, wire_lens;
    std::string reason;

    // libpcap 1.10's pcapng reader takes the first interface's link type and snap length for the
    // whole file and stops at an interface that differs; it also wants at least one interface.
    [[nodiscard]] bool libpcap_can_read() const {
        return ok && interfaces >= 1 && linktypes.size() == 1 && snaplens.size() == 1;
    }
};

std::vector<expectation> read_expectations() {
    std::ifstream in(test::repo("tests/data/pcapng_suite_expected.csv"));
    REQUIRE_MESSAGE(in.good(), "missing tests/data/pcapng_suite_expected.csv");
    std::string line;
    std::vector<std::string> header;
    std::vector<expectation> rows;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto v = split(line, ',');
        if (header.empty()) {
            header = v;
            REQUIRE(header.size() == 11);
            REQUIRE(header[0] == "file");
            continue;
        }
        REQUIRE_MESSAGE(v.size() == header.size(), line);
        expectation e;
        e.file = v[0];
        e.ok = v[1] == "ok";
        e.packets = std::stoul(v[2]);
        e.interfaces = v[4].empty() ? 0 : std::stoul(v[4]);
        e.linktypes = list(v[5]);
        e.snaplens = list(v[6]);
        e.ip_sizes = list(v[7]);
        e.times_ns = list(v[8]);
        e.wire_lens = list(v[9]);
        e.reason = v[10];
        REQUIRE(e.ip_sizes.size() == e.packets);
        REQUIRE(e.times_ns.size() == e.packets);
        REQUIRE(e.wire_lens.size() == e.packets);
        rows.push_back(std::move(e));
    }
    return rows;
}

std::string suite(const std::string& rel) { return test::shared("fixtures/pcapng-suite/" + rel); }

// What flowpic made of a file: every IP packet's size and time, the wire lengths, and the
// error it stopped with, if any.
struct reading {
    std::uint64_t frames = 0;
    std::vector<std::string> ip_sizes, times_ns, wire_lens;
    int link_type = -1;
    std::optional<format_error> error;
};

template <class Size>
void read_into(const std::string& path, reading& r, std::vector<std::string>& sizes, bool times) {
    std::optional<source::pcap_file<Size, protocols::any_ip>> src;
    try {
        src.emplace(path);
        r.link_type = src->link_type();
        keyed_packet kp;
        while (src->next(kp)) {
            sizes.push_back(std::to_string(kp.pkt.size));
            if (times) r.times_ns.push_back(std::to_string(kp.pkt.time_ns));
        }
    } catch (const format_error& e) {
        if (!r.error) r.error = e;
    }
    if (src) r.frames = src->stats().frames;
}

reading read_capture(const std::string& path) {
    reading r;
    read_into<size::ip_length>(path, r, r.ip_sizes, true);
    read_into<size::wire_length>(path, r, r.wire_lens, false);
    return r;
}

// The oracle's IP packets (non-IP records carry '-').
std::vector<std::string> ip_only(const expectation& e, const std::vector<std::string>& column) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < e.packets; ++i)
        if (e.ip_sizes[i] != "-") out.push_back(column[i]);
    return out;
}

// Joined, so that doctest prints both sides of a failed comparison.
std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : "|") + x;
    return s;
}

bool is_prefix(const std::vector<std::string>& a, const std::vector<std::string>& of) {
    return a.size() <= of.size() && std::equal(a.begin(), a.end(), of.begin());
}

void check_clean_error(const reading& r, const std::string& path) {
    REQUIRE(r.error.has_value());
    const std::string what = r.error->what();
    CHECK_MESSAGE(what.find(path) != std::string::npos, what);
    CHECK(r.error->where().file == path);
    CHECK_MESSAGE(r.error->where().offset != location::npos, what);
    CHECK(r.error->where().offset <= std::filesystem::file_size(path));
    CHECK(!r.error->reason().empty());
}

void check_matches(const expectation& e, const reading& r) {
    CHECK(r.frames == e.packets);
    CHECK(join(r.ip_sizes) == join(ip_only(e, e.ip_sizes)));
    CHECK(join(r.times_ns) == join(ip_only(e, e.times_ns)));
    CHECK(join(r.wire_lens) == join(ip_only(e, e.wire_lens)));
    if (e.packets > 0 && !e.linktypes.empty()) CHECK(std::to_string(r.link_type) == e.linktypes.front());
}

}  // namespace

TEST_CASE("pcapng suite: the expectations cover every file of the suite") {
    std::set<std::string> on_disk, expected;
    for (const char* dir : {"le", "be"})
        for (const auto& ent : std::filesystem::directory_iterator(suite(dir)))
            on_disk.insert(std::string(dir) + "/" + ent.path().filename().string());
    for (const auto& e : read_expectations()) expected.insert(e.file);
    CHECK(on_disk == expected);
    CHECK(on_disk.size() >= 50);
}

TEST_CASE("pcapng suite: files within libpcap's model read exactly as tshark reads them") {
    std::size_t checked = 0;
    for (const auto& e : read_expectations()) {
        if (!e.libpcap_can_read()) continue;
        CAPTURE(e.file);
        const std::string path = suite(e.file);
        const reading r = read_capture(path);
        CHECK_MESSAGE(!r.error, (r.error ? r.error->what() : ""));
        CHECK(std::to_string(r.link_type) == e.linktypes.front());
        check_matches(e, r);
        ++checked;
    }
    CHECK(checked >= 20);
}

TEST_CASE("pcapng suite: broken files give format_error after the packets before the damage") {
    std::size_t checked = 0;
    for (const auto& e : read_expectations()) {
        if (e.ok) continue;
        CAPTURE(e.file);
        CAPTURE(e.reason);
        const std::string path = suite(e.file);
        const reading r = read_capture(path);
        check_clean_error(r, path);
        check_matches(e, r);  // exactly the packets Wireshark read before its error
        ++checked;
    }
    CHECK(checked >= 2);
}

TEST_CASE("pcapng suite: valid files beyond libpcap 1.10 fail cleanly after a correct prefix, or match") {
    std::vector<std::string> unread;
    for (const auto& e : read_expectations()) {
        if (!e.ok || e.libpcap_can_read()) continue;
        CAPTURE(e.file);
        const std::string path = suite(e.file);
        const reading r = read_capture(path);
        if (!r.error) {  // read in full: it must be all of it
            check_matches(e, r);
            continue;
        }
        check_clean_error(r, path);
        CHECK_MESSAGE(is_prefix(r.ip_sizes, ip_only(e, e.ip_sizes)), join(r.ip_sizes));
        CHECK_MESSAGE(is_prefix(r.times_ns, ip_only(e, e.times_ns)), join(r.times_ns));
        CHECK(r.frames <= e.packets);
        // libpcap's reason is the interface it cannot take: name it, not something unrelated
        const std::string why = r.error->reason();
        CHECK_MESSAGE(why.find("nterface") != std::string::npos, why);
        unread.push_back(e.file + " (" + std::to_string(r.frames) + "/" + std::to_string(e.packets) +
                         " packets): " + why);
    }
    if (!unread.empty()) {
        std::ostringstream s;
        s << unread.size() << " valid pcapng files are not read in full through libpcap 1.10:";
        for (const auto& u : unread) s << "\n  " << u;
        MESSAGE(s.str());
    }
}
