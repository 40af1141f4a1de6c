// The pcapng conformance suite (../shared/data/fixtures/pcapng-suite/{le,be}) against what
// Wireshark says about each file (tests/data/pcapng_suite_expected.csv, written by
// scripts/make_pcapng_expectations.sh from capinfos and tshark), read by flowpic's native
// source::pcapng_file. libpcap 1.10 (source::pcap_file) refuses half of these valid files: it
// takes one link type and snap length for a whole file and wants an interface; where it can
// read a file, it is a second oracle. Also: every truncation of the multi-section files, the
// pcapng fixture of ../shared/data against libpcap, and a Requet capture converted by editcap.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include "test_files.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/pcapng_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;
namespace fs = std::filesystem;

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
    std::size_t sections = 0;
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
        e.sections = v[3].empty() ? 0 : std::stoul(v[3]);
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

// What a reader made of a file: every IP packet's size and time, the wire lengths, the
// interfaces, and the error it stopped with, if any.
struct reading {
    source::capture_stats stats;
    std::vector<std::string> ip_sizes, times_ns, wire_lens;
    int link_type = -1;
    std::size_t sections = 0;
    std::vector<source::pcapng_interface> interfaces;
    std::optional<format_error> error;
};

template <template <class, class> class Source, class Size>
void read_into(const std::string& path, reading& r, std::vector<std::string>& sizes, bool times) {
    std::optional<Source<Size, protocols::any_ip>> src;
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
    if (!src) return;
    r.stats = src->stats();
    if constexpr (std::is_same_v<Source<Size, protocols::any_ip>, source::pcapng_file<Size, protocols::any_ip>>) {
        r.sections = src->sections();
        r.interfaces.assign(src->interfaces().begin(), src->interfaces().end());
    }
}

template <template <class, class> class Source = source::pcapng_file>
reading read_capture(const std::string& path) {
    reading r;
    read_into<Source, size::ip_length>(path, r, r.ip_sizes, true);
    read_into<Source, size::wire_length>(path, r, r.wire_lens, false);
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

// Distinct values in order of first appearance, as the expectations list link types and snaplens.
template <class F>
std::vector<std::string> distinct(const std::vector<source::pcapng_interface>& ifs, F&& field) {
    std::vector<std::string> out;
    for (const auto& i : ifs) {
        const std::string v = std::to_string(field(i));
        if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return out;
}

void check_packets(const expectation& e, const reading& r) {
    CHECK(r.stats.frames == e.packets);
    CHECK(join(r.ip_sizes) == join(ip_only(e, e.ip_sizes)));
    CHECK(join(r.times_ns) == join(ip_only(e, e.times_ns)));
    CHECK(join(r.wire_lens) == join(ip_only(e, e.wire_lens)));
    const auto non_ip = static_cast<std::uint64_t>(std::count(e.ip_sizes.begin(), e.ip_sizes.end(), "-"));
    CHECK(r.stats.not_ip == non_ip);
}

std::vector<std::uint8_t> slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

using test::temp_dir;

}  // namespace

TEST_CASE("pcapng suite: the expectations cover every file of the suite") {
    std::set<std::string> on_disk, expected;
    for (const char* dir : {"le", "be"})
        for (const auto& ent : fs::directory_iterator(suite(dir)))
            on_disk.insert(std::string(dir) + "/" + ent.path().filename().string());
    for (const auto& e : read_expectations()) expected.insert(e.file);
    CHECK(on_disk == expected);
    CHECK(on_disk.size() >= 50);
}

TEST_CASE("pcapng suite: every valid file reads exactly as tshark reads it") {
    std::size_t checked = 0, beyond_libpcap = 0;
    for (const auto& e : read_expectations()) {
        if (!e.ok) continue;
        CAPTURE(e.file);
        const reading r = read_capture(suite(e.file));
        REQUIRE_MESSAGE(!r.error, (r.error ? r.error->what() : ""));
        check_packets(e, r);
        CHECK(r.sections == e.sections);
        CHECK(r.interfaces.size() == e.interfaces);
        CHECK(join(distinct(r.interfaces, [](const auto& i) { return i.link_type; })) == join(e.linktypes));
        CHECK(join(distinct(r.interfaces, [](const auto& i) { return i.snaplen; })) == join(e.snaplens));
        CHECK(r.link_type == (e.linktypes.empty() ? -1 : std::stoi(e.linktypes.front())));
        ++checked;
        if (!e.libpcap_can_read()) ++beyond_libpcap;
    }
    CHECK(checked >= 50);
    CHECK(beyond_libpcap >= 20);  // the files that made flowpic read pcapng itself
}

TEST_CASE("pcapng suite: where libpcap reads a file, it reads the same packets") {
    std::size_t checked = 0;
    for (const auto& e : read_expectations()) {
        if (!e.libpcap_can_read()) continue;
        CAPTURE(e.file);
        const reading ours = read_capture(suite(e.file));
        const reading theirs = read_capture<source::pcap_file>(suite(e.file));
        REQUIRE_MESSAGE(!theirs.error, theirs.error->what());
        CHECK(join(ours.ip_sizes) == join(theirs.ip_sizes));
        CHECK(join(ours.times_ns) == join(theirs.times_ns));
        CHECK(join(ours.wire_lens) == join(theirs.wire_lens));
        CHECK(ours.stats.frames == theirs.stats.frames);
        CHECK(ours.link_type == theirs.link_type);
        ++checked;
    }
    CHECK(checked >= 20);
}

TEST_CASE("pcapng suite: broken files give format_error at the damaged block, after the packets before it") {
    std::size_t checked = 0;
    for (const auto& e : read_expectations()) {
        if (e.ok) continue;
        CAPTURE(e.file);
        CAPTURE(e.reason);
        const std::string path = suite(e.file);
        const reading r = read_capture(path);
        REQUIRE(r.error.has_value());
        const std::string what = r.error->what();
        CHECK_MESSAGE(what.find(path) != std::string::npos, what);
        CHECK(r.error->where().file == path);
        check_packets(e, r);  // exactly the packets Wireshark read before its error
        // the offset names a block start: there, a Section Header Block (test901's version 2.0)
        const auto bytes = slurp(path);
        const std::uint64_t at = r.error->where().offset;
        REQUIRE(at + 4 <= bytes.size());
        if (e.reason.find("SHB version") != std::string::npos) {
            CHECK(at > 0);
            CHECK(bytes[at] == 0x0A);
            CHECK(bytes[at + 1] == 0x0D);
            CHECK(bytes[at + 2] == 0x0D);
            CHECK(bytes[at + 3] == 0x0A);
            // Wireshark: "unknown SHB version 2.0"
            const std::string version = e.reason.substr(e.reason.rfind(' ') + 1);
            CHECK_MESSAGE(r.error->reason().find("version " + version) != std::string::npos, r.error->reason());
        }
        ++checked;
    }
    CHECK(checked >= 2);
}

TEST_CASE("pcapng suite: every truncation of the multi-section files") {
    // Blocks are walked by their lengths here; a cut at a block end must read the packets of the
    // blocks before it (tshark's, from the expectations), any other cut must fail at the start
    // of the block it falls in, after those packets.
    temp_dir dir("pcapng-suite");
    std::size_t files = 0;
    for (const auto& e : read_expectations()) {
        if (!e.ok || e.sections < 3) continue;
        CAPTURE(e.file);
        const auto bytes = slurp(suite(e.file));
        std::vector<std::size_t> starts;   // block starts, then the file's end
        std::vector<std::size_t> packets;  // packet records before each start
        bool big = false;
        std::size_t n_packets = 0;
        for (std::size_t at = 0; at + 12 <= bytes.size();) {
            auto u32 = [&](std::size_t o) {
                const std::uint32_t b0 = bytes[o], b1 = bytes[o + 1], b2 = bytes[o + 2], b3 = bytes[o + 3];
                return big ? (b0 << 24) | (b1 << 16) | (b2 << 8) | b3 : b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
            };
            if (u32(at) == 0x0A0D0D0A) big = bytes[at + 8] == 0x1A;
            const std::uint32_t type = u32(at);
            starts.push_back(at);
            packets.push_back(n_packets);
            if (type == 6 || type == 3 || type == 2) ++n_packets;
            at += u32(at + 4);
        }
        REQUIRE(n_packets == e.packets);
        starts.push_back(bytes.size());
        packets.push_back(n_packets);
        const std::string path = (dir.path / "cut.pcapng").string();
        for (std::size_t n = 0; n <= bytes.size(); ++n) {
            CAPTURE(n);
            {
                std::ofstream out(path, std::ios::binary | std::ios::trunc);
                out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(n));
            }
            const reading r = read_capture(path);
            const auto it = std::upper_bound(starts.begin(), starts.end(), n);  // first start after n
            const std::size_t block = static_cast<std::size_t>(it - starts.begin()) - 1;  // the block n falls in
            expectation prefix = e;
            prefix.packets = packets[block];
            prefix.ip_sizes.resize(prefix.packets);
            prefix.times_ns.resize(prefix.packets);
            prefix.wire_lens.resize(prefix.packets);
            if (n > 0 && starts[block] == n) {
                CHECK_MESSAGE(!r.error, r.error->what());
            } else {
                REQUIRE(r.error.has_value());
                CHECK(r.error->where().offset == starts[block]);
            }
            check_packets(prefix, r);
        }
        ++files;
    }
    CHECK(files >= 4);  // test200-202, little- and big-endian
}

TEST_CASE("pcapng suite: visit_file reads pcapng natively") {
    std::size_t frames = 0;
    std::string type;
    source::visit_file(suite("be/test202.pcapng"), [&](auto& s) {
        using T = std::remove_cvref_t<decltype(s)>;
        type = std::is_same_v<T, source::pcapng_file<>> ? "pcapng_file" : "other";
        keyed_packet kp;
        while (s.next(kp)) ++frames;
    });
    CHECK(type == "pcapng_file");
    CHECK(frames == 8);  // tshark: 8 IP packets in three sections of both byte orders
}

TEST_CASE("pcapng: the nDPI Telegram capture (nanosecond if_tsresol) reads as libpcap reads it") {
    const std::string path = test::shared("fixtures/ndpi_telegram_videocall.pcapng");
    source::pcapng_file<size::ip_length, protocols::any_ip> ours(path);
    source::pcap_file<size::ip_length, protocols::any_ip> theirs(path);
    keyed_packet a, b;
    std::size_t n = 0, differ = 0;
    for (;;) {
        const bool ga = ours.next(a), gb = theirs.next(b);
        REQUIRE(ga == gb);
        if (!ga) break;
        ++n;
        if (!(a.key == b.key) || !(a.pkt == b.pkt)) ++differ;
    }
    CHECK(differ == 0);
    CHECK(ours.stats().frames == 889);  // MANIFEST.csv
    CHECK(ours.stats().frames == theirs.stats().frames);
    CHECK(ours.stats().not_ip == theirs.stats().not_ip);
    CHECK(n > 800);
}

TEST_CASE("pcapng: a Requet capture converted by editcap reads as the pcap does through libpcap") {
    if (std::system("command -v editcap >/dev/null 2>&1") != 0) {
        MESSAGE("editcap (Debian: tshark) not found: the conversion check did not run");
        return;
    }
    temp_dir dir("pcapng-suite");
    const std::string pcap = test::shared("requet-youtube-b2/baseline_May03_exp_288.pcap");
    const std::string ng = (dir.path / "requet.pcapng").string();
    REQUIRE(std::system(("editcap -F pcapng '" + pcap + "' '" + ng + "'").c_str()) == 0);
    source::pcapng_file<size::wire_length, protocols::any_ip> ours(ng);
    source::pcap_file<size::wire_length, protocols::any_ip> theirs(pcap);
    keyed_packet a, b;
    std::size_t n = 0, differ = 0;
    for (;;) {
        const bool ga = ours.next(a), gb = theirs.next(b);
        REQUIRE(ga == gb);
        if (!ga) break;
        ++n;
        if (!(a.key == b.key) || !(a.pkt == b.pkt)) ++differ;
    }
    CHECK(differ == 0);
    CHECK(n > 10000);  // more than the 1 MiB buffer holds: blocks straddle refills
    CHECK(ours.stats().frames == theirs.stats().frames);
    CHECK(ours.link_type() == 1);
}
