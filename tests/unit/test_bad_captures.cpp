// Robustness of the capture readers on damaged files: every truncation of small pcap and pcapng
// files, corrupt headers, absurd lengths, unknown link types, empty files and directories.
// A damaged file must end in a flowpic::error that names the file (and, for format errors, a
// byte offset), after the packets that precede the damage: never a crash, a hang or garbage.
// pcap files go through source::pcap_file (libpcap), pcapng files through the native
// source::pcapng_file, which names the exact offset of the damaged block.
//
// The files are built byte by byte here; the pcap builder is checked against libpcap's own
// writer (pcap_dump), and the pcapng builder against libpcap's pcapng reader, so the hand-made
// layout is not its own oracle.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <pcap/pcap.h>
#include <unistd.h>

#include "test_files.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/pcapng_file.hpp"

using namespace flowpic;
using bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

namespace {

// ---- byte writers ---------------------------------------------------------------------------

using writer = test::byte_writer;

// Ethernet + IPv4 + UDP 10.0.0.1:sport -> 10.0.0.2:dport with `payload` bytes.
bytes udp_frame(std::uint16_t sport, std::uint16_t dport, std::size_t payload) {
    bytes f(14, 0);
    f[12] = 0x08;
    const std::size_t ip_len = 20 + 8 + payload;
    bytes ip(ip_len, 0x5a);
    ip[0] = 0x45; ip[1] = 0;
    ip[2] = static_cast<std::uint8_t>(ip_len >> 8); ip[3] = static_cast<std::uint8_t>(ip_len);
    ip[4] = ip[5] = ip[6] = ip[7] = 0;
    ip[8] = 64; ip[9] = 17; ip[10] = ip[11] = 0;
    ip[12] = 10; ip[13] = 0; ip[14] = 0; ip[15] = 1;
    ip[16] = 10; ip[17] = 0; ip[18] = 0; ip[19] = 2;
    ip[20] = static_cast<std::uint8_t>(sport >> 8); ip[21] = static_cast<std::uint8_t>(sport);
    ip[22] = static_cast<std::uint8_t>(dport >> 8); ip[23] = static_cast<std::uint8_t>(dport);
    ip[24] = static_cast<std::uint8_t>((8 + payload) >> 8); ip[25] = static_cast<std::uint8_t>(8 + payload);
    ip[26] = ip[27] = 0;
    f.insert(f.end(), ip.begin(), ip.end());
    return f;
}

// The packets every valid test file holds.
struct sample {
    std::uint16_t sport;
    std::size_t payload;
    std::uint32_t sec;
    std::uint32_t usec;
    [[nodiscard]] bytes frame() const { return udp_frame(sport, 443, payload); }
    [[nodiscard]] std::uint32_t ip_size() const { return static_cast<std::uint32_t>(28 + payload); }
    [[nodiscard]] std::int64_t time_ns() const {
        return std::int64_t{sec} * ns_per_second + std::int64_t{usec} * 1000;
    }
};
const std::vector<sample> samples = {
    {40001, 10, 1'600'000'000, 123'456},
    {40002, 100, 1'600'000'001, 5},
    {40003, 300, 1'600'000'002, 999'999},
};

// ---- classic pcap ---------------------------------------------------------------------------

struct pcap_layout {
    bool big = false;
    bool nano = false;
    std::uint32_t magic_override = 0;
    std::uint16_t major = 2, minor = 4;
    std::uint32_t snaplen = 65535;
    std::uint32_t linktype = 1;
};

struct built {
    bytes data;
    std::size_t headers_end = 0;           // where the first packet record starts
    std::vector<std::size_t> record_ends;  // where each packet record ends
    // pcapng: where each header block starts (a cut there is clean: a section without
    // interfaces or packets is a valid file); error offsets must then be exact block starts
    std::vector<std::size_t> header_starts;
};

void pcap_record(writer& w, std::uint32_t sec, std::uint32_t frac, const bytes& frame,
                 std::optional<std::uint32_t> caplen = std::nullopt) {
    w.u32(sec);
    w.u32(frac);
    w.u32(caplen.value_or(static_cast<std::uint32_t>(frame.size())));
    w.u32(static_cast<std::uint32_t>(frame.size()));
    w.raw(frame);
}

built make_pcap(const pcap_layout& l = {}) {
    writer w{l.big, {}};
    w.u32(l.magic_override ? l.magic_override : (l.nano ? 0xa1b23c4d : 0xa1b2c3d4));
    w.u16(l.major);
    w.u16(l.minor);
    w.u32(0);  // thiszone
    w.u32(0);  // sigfigs
    w.u32(l.snaplen);
    w.u32(l.linktype);
    built out;
    out.headers_end = w.b.size();
    for (const auto& s : samples) {
        pcap_record(w, s.sec, l.nano ? s.usec * 1000 : s.usec, s.frame());
        out.record_ends.push_back(w.b.size());
    }
    out.data = std::move(w.b);
    return out;
}

// ---- pcapng ---------------------------------------------------------------------------------

struct pcapng_layout {
    bool big = false;
    std::uint16_t major = 1;
    std::uint32_t shb_length = 28;  // what the SHB claims (28 is right)
};

void block(writer& w, std::uint32_t type, const bytes& body) {
    const auto len = static_cast<std::uint32_t>(12 + body.size());
    w.u32(type);
    w.u32(len);
    w.raw(body);
    w.u32(len);
}

bytes idb_body(bool big, std::uint16_t linktype = 1, std::uint32_t snaplen = 65535) {
    writer b{big, {}};
    b.u16(linktype);
    b.u16(0);
    b.u32(snaplen);
    return b.b;
}

bytes epb_body(bool big, std::uint32_t iface, std::uint64_t ts, const bytes& frame,
               std::optional<std::uint32_t> caplen = std::nullopt) {
    writer b{big, {}};
    b.u32(iface);
    b.u32(static_cast<std::uint32_t>(ts >> 32));
    b.u32(static_cast<std::uint32_t>(ts));
    b.u32(caplen.value_or(static_cast<std::uint32_t>(frame.size())));
    b.u32(static_cast<std::uint32_t>(frame.size()));
    b.raw(frame);
    b.pad4();
    return b.b;
}

std::uint64_t usec_ts(const sample& s) { return std::uint64_t{s.sec} * 1'000'000 + s.usec; }

void shb(writer& w, const pcapng_layout& l) {
    w.u32(0x0a0d0d0a);
    w.u32(l.shb_length);
    w.u32(0x1a2b3c4d);
    w.u16(l.major);
    w.u16(0);
    w.u32(0xffffffff);  // section length: unknown
    w.u32(0xffffffff);
    w.u32(l.shb_length);
}

built make_pcapng(const pcapng_layout& l = {}) {
    writer w{l.big, {}};
    built out;
    out.header_starts.push_back(w.b.size());
    shb(w, l);
    out.header_starts.push_back(w.b.size());
    block(w, 1, idb_body(l.big));
    out.headers_end = w.b.size();
    for (const auto& s : samples) {
        block(w, 6, epb_body(l.big, 0, usec_ts(s), s.frame()));
        out.record_ends.push_back(w.b.size());
    }
    out.data = std::move(w.b);
    return out;
}

// ---- files and reading ----------------------------------------------------------------------

using test::temp_dir;

enum class kind { none, format, io, other };

struct outcome {
    std::vector<keyed_packet> packets;
    source::capture_stats stats;
    kind error = kind::none;
    std::string what;
    location where;
};

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Reads a file to its end with Source; by default, names ending in .pcapng go to the native
// pcapng reader and every other name to libpcap's.
template <class Source = void>
outcome read_all(const std::string& path) {
    if constexpr (std::is_void_v<Source>) {
        return ends_with(path, ".pcapng") ? read_all<source::pcapng_file<>>(path) : read_all<source::pcap_file<>>(path);
    } else {
    outcome o;
    try {
        Source src(path);
        keyed_packet kp;
        try {
            while (src.next(kp)) o.packets.push_back(kp);
        } catch (...) {
            o.stats = src.stats();
            throw;
        }
        o.stats = src.stats();
    } catch (const format_error& e) {
        o.error = kind::format;
        o.what = e.what();
        o.where = e.where();
    } catch (const io_error& e) {
        o.error = kind::io;
        o.what = e.what();
        o.where = e.where();
    } catch (const error& e) {
        o.error = kind::other;
        o.what = e.what();
        o.where = e.where();
    }
    return o;
    }
}

// The first n packets are exactly the samples.
void check_prefix(const outcome& o, std::size_t n) {
    REQUIRE(o.packets.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(o.packets[i].pkt.size == samples[i].ip_size());
        CHECK(o.packets[i].pkt.time_ns == samples[i].time_ns());
        CHECK(o.packets[i].key.sport == samples[i].sport);
        CHECK(o.packets[i].key.dport == 443);
        CHECK(o.packets[i].key.proto == 17);
        CHECK(o.packets[i].key.src.str() == "10.0.0.1");
    }
}

// A format error that names the file and a byte offset no further than `max_offset`.
void check_format_error(const outcome& o, const std::string& path, std::uint64_t max_offset) {
    REQUIRE_MESSAGE(o.error == kind::format, o.what);
    CHECK_MESSAGE(o.what.find(path) != std::string::npos, o.what);
    CHECK_MESSAGE(o.what.find("byte offset") != std::string::npos, o.what);
    CHECK(o.where.file == path);
    REQUIRE(o.where.offset != location::npos);
    CHECK(o.where.offset <= max_offset);
}

// Truncates `b` at every offset: a cut at a record boundary reads the packets before it, any
// other cut is a format error after them, at an offset inside the damaged record (for pcapng:
// exactly at the start of the damaged block).
void every_truncation(const temp_dir& dir, const built& b, const std::string& name) {
    const bool ng = !b.header_starts.empty();
    std::size_t clean = 0, errors = 0;
    for (std::size_t n = 0; n <= b.data.size(); ++n) {
        CAPTURE(n);
        const std::string path = dir.write(name, b.data, n);
        const outcome o = read_all(path);
        std::size_t whole = 0;  // records wholly inside the first n bytes
        while (whole < b.record_ends.size() && b.record_ends[whole] <= n) ++whole;
        const std::size_t record_start = whole == 0 ? b.headers_end : b.record_ends[whole - 1];
        const bool at_header_block =
            n > 0 && std::find(b.header_starts.begin(), b.header_starts.end(), n) != b.header_starts.end();
        if (n == record_start || at_header_block) {
            CHECK_MESSAGE(o.error == kind::none, o.what);
            check_prefix(o, whole);
            ++clean;
        } else {
            check_format_error(o, path, n);
            if (n > b.headers_end) {  // the packets before the cut record, then the error
                check_prefix(o, whole);
                CHECK(o.where.offset >= record_start);
                if (ng) CHECK(o.where.offset == record_start);
            } else {
                CHECK(o.packets.empty());
                if (ng) {  // the header block the cut falls in (offset 0 for an empty file)
                    std::size_t start = 0;
                    for (std::size_t h : b.header_starts)
                        if (h < n) start = h;
                    CHECK(o.where.offset == start);
                }
            }
            ++errors;
        }
    }
    const std::size_t clean_headers = ng ? b.header_starts.size() - 1 : 0;  // not at 0: an empty file
    CHECK(clean == b.record_ends.size() + 1 + clean_headers);
    CHECK(errors == b.data.size() + 1 - clean);
}

}  // namespace

TEST_CASE("bad captures: the hand-built pcap is byte for byte what libpcap's pcap_dump writes") {
    if constexpr (std::endian::native != std::endian::little) return;  // pcap_dump writes host order
    temp_dir dir("bad-captures");
    const std::string path = (dir.path / "dumped.pcap").string();
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_MICRO);
    REQUIRE(dead);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    REQUIRE(d);
    for (const auto& s : samples) {
        const bytes f = s.frame();
        pcap_pkthdr h{};
        h.ts.tv_sec = s.sec;
        h.ts.tv_usec = s.usec;
        h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
        pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
    }
    pcap_dump_close(d);
    pcap_close(dead);
    std::ifstream in(path, std::ios::binary);
    const bytes dumped{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    CHECK(dumped == make_pcap().data);
    check_prefix(read_all(path), samples.size());
}

TEST_CASE("bad captures: every truncation of a pcap (both byte orders, micro- and nanosecond)") {
    temp_dir dir;
    for (bool big : {false, true})
        for (bool nano : {false, true}) {
            CAPTURE(big);
            CAPTURE(nano);
            const built b = make_pcap({.big = big, .nano = nano});
            check_prefix(read_all(dir.write("whole.pcap", b.data)), samples.size());
            every_truncation(dir, b, "cut.pcap");
        }
}

TEST_CASE("bad captures: every truncation of a pcapng (both byte orders)") {
    temp_dir dir;
    for (bool big : {false, true}) {
        CAPTURE(big);
        const built b = make_pcapng({.big = big});
        check_prefix(read_all(dir.write("whole.pcapng", b.data)), samples.size());
        every_truncation(dir, b, "cut.pcapng");
    }
}

TEST_CASE("bad captures: corrupt pcap headers") {
    temp_dir dir;
    SUBCASE("unknown magic") {
        const auto p = dir.write("magic.pcap", make_pcap({.magic_override = 0xdeadbeef}).data);
        const auto o = read_all(p);
        check_format_error(o, p, 0);
        CHECK(o.packets.empty());
    }
    SUBCASE("a pcapng magic with a bad byte-order magic") {
        built b = make_pcapng();
        b.data[8] = 0x11;
        const auto p = dir.write("bom.pcapng", b.data);
        check_format_error(read_all(p), p, 0);
    }
    SUBCASE("archaic and future versions") {
        for (std::uint16_t major : {std::uint16_t{1}, std::uint16_t{3}, std::uint16_t{0xffff}}) {
            CAPTURE(major);
            const auto p = dir.write("version.pcap", make_pcap({.major = major}).data);
            check_format_error(read_all(p), p, 0);
        }
        const auto p = dir.write("minor.pcap", make_pcap({.minor = 99}).data);
        check_format_error(read_all(p), p, 0);
    }
    SUBCASE("snaplen 0 and 0xffffffff mean 'not limited': the packets read as usual") {
        for (std::uint32_t snap : {0u, 0xffffffffu}) {
            CAPTURE(snap);
            const auto o = read_all(dir.write("snap.pcap", make_pcap({.snaplen = snap}).data));
            CHECK_MESSAGE(o.error == kind::none, o.what);
            check_prefix(o, samples.size());
        }
    }
    SUBCASE("a link type flowpic does not decode") {
        for (std::uint32_t lt : {147u, 0xfffu}) {  // USER0; an unassigned value
            CAPTURE(lt);
            const auto p = dir.write("link.pcap", make_pcap({.linktype = lt}).data);
            const auto o = read_all(p);
            check_format_error(o, p, 0);
            CHECK_MESSAGE(o.what.find("link type " + std::to_string(lt)) != std::string::npos, o.what);
            CHECK_MESSAGE(o.what.find("link type") == o.what.rfind("link type"), o.what);  // said once
        }
    }
}

TEST_CASE("bad captures: absurd pcap record lengths") {
    temp_dir dir;
    const pcap_layout l{};
    auto with_second = [&](std::optional<std::uint32_t> caplen, const bytes& frame) {
        writer w{false, {}};
        const built good = make_pcap(l);
        w.raw(bytes(good.data.begin(), good.data.begin() + static_cast<std::ptrdiff_t>(good.record_ends[0])));
        pcap_record(w, samples[1].sec, samples[1].usec, frame, caplen);
        pcap_record(w, samples[2].sec, samples[2].usec, samples[2].frame());
        return w.b;
    };
    SUBCASE("caplen 0xffffffff and caplen above 256 KiB: error at that record, after the first packet") {
        for (std::uint32_t cap : {0xffffffffu, 256u * 1024u + 1u, 0x7fffffffu}) {
            CAPTURE(cap);
            const auto p = dir.write("caplen.pcap", with_second(cap, samples[1].frame()));
            const auto o = read_all(p);
            check_format_error(o, p, fs::file_size(p));
            check_prefix(o, 1);
            CHECK(o.where.offset >= make_pcap(l).record_ends[0]);
        }
    }
    SUBCASE("caplen above the snaplen: libpcap keeps snaplen bytes and goes on") {
        pcap_layout small = l;
        small.snaplen = 64;
        writer w{false, {}};
        const built hdr = make_pcap(small);
        w.raw(bytes(hdr.data.begin(), hdr.data.begin() + 24));
        for (const auto& s : samples) pcap_record(w, s.sec, s.usec, s.frame());
        const auto o = read_all(dir.write("oversnap.pcap", w.b));
        CHECK_MESSAGE(o.error == kind::none, o.what);
        check_prefix(o, samples.size());  // sizes come from the IP header, not the capture
    }
    SUBCASE("caplen 0: the record is counted as truncated, the next one still read") {
        const auto o = read_all(dir.write("cap0.pcap", with_second(0u, {})));
        CHECK_MESSAGE(o.error == kind::none, o.what);
        REQUIRE(o.packets.size() == 2);
        CHECK(o.packets[1].key.sport == samples[2].sport);
        CHECK(o.stats.frames == 3);
        CHECK(o.stats.truncated == 1);
    }
    SUBCASE("caplen larger than the rest of the file") {
        const auto p = dir.write("short.pcap", with_second(100000u, samples[1].frame()));
        const auto o = read_all(p);
        check_format_error(o, p, fs::file_size(p));
        check_prefix(o, 1);
    }
}

TEST_CASE("bad captures: absurd pcapng blocks") {
    temp_dir dir;
    // SHB + IDB + first EPB, then a damaged block, then a good EPB
    auto with_block = [&](auto&& damaged, bool big = false) {
        writer w{big, {}};
        shb(w, {.big = big});
        block(w, 1, idb_body(big));
        block(w, 6, epb_body(big, 0, usec_ts(samples[0]), samples[0].frame()));
        const std::size_t before = w.b.size();
        damaged(w);
        block(w, 6, epb_body(big, 0, usec_ts(samples[2]), samples[2].frame()));
        return std::pair{w.b, before};
    };
    auto expect_error_after_first = [&](const char* name, auto&& damaged) {
        for (bool big : {false, true}) {
            CAPTURE(name);
            CAPTURE(big);
            const auto [data, before] = with_block(damaged, big);
            const auto p = dir.write(name, data);
            const auto o = read_all(p);
            check_format_error(o, p, data.size());
            check_prefix(o, 1);
            CHECK(o.where.offset == before);  // the damaged block itself
        }
    };
    expect_error_after_first("len0.pcapng", [](writer& w) { w.u32(6); w.u32(0); w.u32(0); });
    expect_error_after_first("len8.pcapng", [](writer& w) { w.u32(6); w.u32(8); w.u32(8); });
    expect_error_after_first("len_odd.pcapng", [](writer& w) {
        w.u32(6); w.u32(33); w.raw(bytes(20, 0)); w.u8(0); w.u32(33);
    });
    expect_error_after_first("len_huge.pcapng", [](writer& w) { w.u32(6); w.u32(0xfffffff0u); w.raw(bytes(64, 0)); });
    expect_error_after_first("len_max.pcapng", [](writer& w) { w.u32(6); w.u32(0xffffffffu); w.raw(bytes(64, 0)); });
    expect_error_after_first("trailer.pcapng", [](writer& w) {
        const bytes body = epb_body(w.big, 0, usec_ts(samples[1]), samples[1].frame());
        w.u32(6); w.u32(static_cast<std::uint32_t>(12 + body.size())); w.raw(body); w.u32(12);
    });
    expect_error_after_first("epb_caplen.pcapng", [](writer& w) {
        block(w, 6, epb_body(w.big, 0, usec_ts(samples[1]), samples[1].frame(), 0x00100000u));
    });
    expect_error_after_first("epb_caplen_max.pcapng", [](writer& w) {
        block(w, 6, epb_body(w.big, 0, usec_ts(samples[1]), samples[1].frame(), 0xffffffffu));
    });
    expect_error_after_first("epb_iface.pcapng", [](writer& w) {
        block(w, 6, epb_body(w.big, 7, usec_ts(samples[1]), samples[1].frame()));
    });
    expect_error_after_first("epb_short.pcapng", [](writer& w) { block(w, 6, bytes(8, 0)); });
    expect_error_after_first("shb_v2.pcapng", [](writer& w) { shb(w, {.big = w.big, .major = 2}); });

    SUBCASE("an unknown block type is skipped") {
        const auto [data, before] = with_block([](writer& w) { block(w, 0x0badf00d, bytes(16, 1)); });
        const auto o = read_all(dir.write("unknown_block.pcapng", data));
        CHECK_MESSAGE(o.error == kind::none, o.what);
        REQUIRE(o.packets.size() == 2);
        CHECK(o.packets[1].key.sport == samples[2].sport);
    }
    SUBCASE("absurd Section Header Block lengths") {
        for (std::uint32_t len : {0u, 12u, 27u, 29u, 0x7ffffffcu, 0xffffffffu}) {
            CAPTURE(len);
            const auto p = dir.write("shb_len.pcapng", make_pcapng({.shb_length = len}).data);
            const auto o = read_all(p);
            check_format_error(o, p, fs::file_size(p));
            CHECK(o.packets.empty());
            CHECK(o.where.offset == 0);
        }
    }
    SUBCASE("link types flowpic does not decode: their frames are counted, the file still reads") {
        for (std::uint16_t lt : {std::uint16_t{147}, std::uint16_t{0xfff}}) {  // USER0; an unassigned value
            CAPTURE(lt);
            // interface 0 undecodable, interface 1 Ethernet: the samples alternate between them
            writer w{false, {}};
            shb(w, {});
            block(w, 1, idb_body(false, lt));
            block(w, 1, idb_body(false, 1));
            for (std::size_t i = 0; i < samples.size(); ++i) {
                block(w, 6, epb_body(false, 0, usec_ts(samples[i]), samples[i].frame()));
                block(w, 6, epb_body(false, 1, usec_ts(samples[i]), samples[i].frame()));
            }
            const auto p = dir.write("link.pcapng", w.b);
            const auto o = read_all(p);
            CHECK_MESSAGE(o.error == kind::none, o.what);
            check_prefix(o, samples.size());
            CHECK(o.stats.frames == 2 * samples.size());
            CHECK(o.stats.not_ip == samples.size());
            CHECK(source::pcapng_file<>(p).link_type() == lt);  // the first interface's

            // only undecodable interfaces: every frame counted, no packet, no error
            writer only{true, {}};
            shb(only, {.big = true});
            block(only, 1, idb_body(true, lt));
            for (const auto& smp : samples) block(only, 6, epb_body(true, 0, usec_ts(smp), smp.frame()));
            const auto q = read_all(dir.write("only.pcapng", only.b));
            CHECK_MESSAGE(q.error == kind::none, q.what);
            CHECK(q.packets.empty());
            CHECK(q.stats.frames == samples.size());
            CHECK(q.stats.not_ip == samples.size());
        }
    }
    SUBCASE("timestamps beyond the int64 nanosecond range") {
        for (std::uint64_t ts : {~std::uint64_t{0}, std::uint64_t{1} << 63, std::uint64_t{9'300'000'000} * 1'000'000}) {
            CAPTURE(ts);
            writer w{false, {}};
            shb(w, {});
            block(w, 1, idb_body(false));
            block(w, 6, epb_body(false, 0, usec_ts(samples[0]), samples[0].frame()));
            const std::size_t before = w.b.size();
            block(w, 6, epb_body(false, 0, ts, samples[1].frame()));
            const auto p = dir.write("ts.pcapng", w.b);
            const auto o = read_all(p);
            check_format_error(o, p, fs::file_size(p));
            check_prefix(o, 1);
            CHECK(o.where.offset == before);
        }
    }
}

TEST_CASE("bad captures: empty files, zero-length files, directories, missing files") {
    temp_dir dir;
    SUBCASE("a pcap with its header only: no packets, no error") {
        const built b = make_pcap();
        const auto o = read_all(dir.write("header.pcap", b.data, b.headers_end));
        CHECK_MESSAGE(o.error == kind::none, o.what);
        CHECK(o.packets.empty());
        CHECK(o.stats.frames == 0);
    }
    SUBCASE("a pcapng with a section and an interface only: no packets, no error") {
        const built b = make_pcapng();
        const auto o = read_all(dir.write("header.pcapng", b.data, b.headers_end));
        CHECK_MESSAGE(o.error == kind::none, o.what);
        CHECK(o.packets.empty());
    }
    SUBCASE("a pcapng with a section only (no interface): no packets, no error") {
        const built b = make_pcapng();
        const auto o = read_all(dir.write("section.pcapng", b.data, b.header_starts[1]));
        CHECK_MESSAGE(o.error == kind::none, o.what);
        CHECK(o.packets.empty());
        CHECK(source::pcapng_file<>(dir.write("section.pcapng", b.data, b.header_starts[1])).link_type() == -1);
    }
    // each bad file through both readers
    SUBCASE("a zero-length file") {
        for (const char* name : {"empty.pcap", "empty.pcapng"}) {
            const auto p = dir.write(name, {});
            const auto o = read_all(p);
            check_format_error(o, p, 0);
        }
    }
    SUBCASE("a text file") {
        const std::string text = "src,dst,sport,dport\n10.0.0.1,10.0.0.2,1,2\n";
        for (const char* name : {"flows.csv", "flows.csv.pcapng"}) {
            const auto p = dir.write(name, bytes(text.begin(), text.end()));
            check_format_error(read_all(p), p, 0);
        }
    }
    SUBCASE("a directory is an io_error") {
        for (const auto& o : {read_all<source::pcap_file<>>(dir.path.string()),
                              read_all<source::pcapng_file<>>(dir.path.string())}) {
            CHECK_MESSAGE(o.error == kind::io, o.what);
            CHECK_MESSAGE(o.what.find(dir.path.string()) != std::string::npos, o.what);
            CHECK_MESSAGE(o.what.find("directory") != std::string::npos, o.what);
        }
    }
    SUBCASE("a missing file is an io_error") {
        for (const char* name : {"no-such.pcap", "no-such.pcapng"}) {
            const auto p = (dir.path / name).string();
            const auto o = read_all(p);
            CHECK(o.error == kind::io);
            CHECK_MESSAGE(o.what.find(p) != std::string::npos, o.what);
        }
    }
}

TEST_CASE("bad captures: the hand-built pcapng is what libpcap's pcapng reader reads") {
    // libpcap is an independent reader of the builder's layout (within its model: one interface)
    temp_dir dir;
    for (bool big : {false, true}) {
        CAPTURE(big);
        const auto p = dir.write("whole.pcapng", make_pcapng({.big = big}).data);
        const auto o = read_all<source::pcap_file<>>(p);
        CHECK_MESSAGE(o.error == kind::none, o.what);
        check_prefix(o, samples.size());
    }
}

TEST_CASE("bad captures: a pcapng reader that failed repeats its error") {
    temp_dir dir;
    built b = make_pcapng();
    const auto p = dir.write("cut.pcapng", b.data, b.record_ends[1] + 5);
    source::pcapng_file<> src(p);
    keyed_packet kp;
    CHECK(src.next(kp));
    CHECK(src.next(kp));
    std::string first, second;
    try {
        (void)src.next(kp);
    } catch (const format_error& e) {
        first = e.what();
    }
    try {
        (void)src.next(kp);
    } catch (const format_error& e) {
        second = e.what();
    }
    CHECK(!first.empty());
    CHECK(first == second);
    CHECK(src.stats().frames == 2);
}
