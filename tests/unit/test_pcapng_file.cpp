// source::pcapng_file on hand-built files: timestamp resolutions and offsets, Simple and obsolete
// Packet Blocks, sections of both byte orders, skipped blocks, blocks larger than the read
// buffer, and the errors of damaged interface descriptions. Damaged framing and truncation are
// in test_bad_captures.cpp; the conformance suite against tshark in tests/data.
//
// The expected timestamps are computed by hand (exact fractions, rounded down); tshark 4.0.17
// gives the same for every resolution up to 2^-32 and 10^-10 (checked when this was written).
// Beyond those, Wireshark 4.0 overflows a 64-bit product (1.5 s at 2^-63 shows as 1.0 s), which
// later Wireshark versions fixed: there the exact value is the oracle.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "test_files.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/source/pcapng_file.hpp"

using namespace flowpic;
namespace fs = std::filesystem;

namespace {

using bytes = std::vector<std::uint8_t>;

struct writer : test::byte_writer {

    void block(std::uint32_t type, const bytes& body) {
        const auto len = static_cast<std::uint32_t>(12 + body.size());
        u32(type);
        u32(len);
        raw(body);
        u32(len);
    }
    [[nodiscard]] writer sub() const { return writer{big, {}}; }

    void shb(std::uint16_t major = 1) {
        u32(0x0A0D0D0A);
        u32(28);
        u32(0x1A2B3C4D);
        u16(major);
        u16(0);
        u64(~std::uint64_t{0});
        u32(28);
    }
    // tsresol < 0: no if_tsresol option (microseconds)
    void idb(std::uint16_t linktype = 1, std::uint32_t snaplen = 0, int tsresol = -1, const std::int64_t* tsoffset = nullptr) {
        writer w = sub();
        w.u16(linktype);
        w.u16(0);
        w.u32(snaplen);
        if (tsresol >= 0) {
            w.u16(9);
            w.u16(1);
            w.u8(static_cast<std::uint8_t>(tsresol));
            w.pad4();
        }
        if (tsoffset) {
            w.u16(14);
            w.u16(8);
            w.u64(static_cast<std::uint64_t>(*tsoffset));
        }
        w.u16(0);  // opt_endofopt
        w.u16(0);
        block(1, w.b);
    }
    void epb(std::uint32_t iface, std::uint64_t ts, const bytes& frame, std::uint32_t wire = 0) {
        writer w = sub();
        w.u32(iface);
        w.u32(static_cast<std::uint32_t>(ts >> 32));
        w.u32(static_cast<std::uint32_t>(ts));
        w.u32(static_cast<std::uint32_t>(frame.size()));
        w.u32(wire ? wire : static_cast<std::uint32_t>(frame.size()));
        w.raw(frame);
        w.pad4();
        block(6, w.b);
    }
    void obsolete_pb(std::uint16_t iface, std::uint64_t ts, const bytes& frame) {
        writer w = sub();
        w.u16(iface);
        w.u16(0);  // drops
        w.u32(static_cast<std::uint32_t>(ts >> 32));
        w.u32(static_cast<std::uint32_t>(ts));
        w.u32(static_cast<std::uint32_t>(frame.size()));
        w.u32(static_cast<std::uint32_t>(frame.size()));
        w.raw(frame);
        w.pad4();
        block(2, w.b);
    }
    void spb(std::uint32_t wire, const bytes& data) {
        writer w = sub();
        w.u32(wire);
        w.raw(data);
        w.pad4();
        block(3, w.b);
    }
};

// Ethernet + IPv4 + UDP 10.0.0.1:sport -> 10.0.0.2:443 with `payload` bytes.
bytes udp_frame(std::uint16_t sport, std::size_t payload = 0) {
    bytes f(14, 0);
    f[12] = 0x08;
    const std::size_t ip_len = 28 + payload;
    bytes ip(ip_len, 0x5a);
    ip[0] = 0x45; ip[1] = 0;
    ip[2] = static_cast<std::uint8_t>(ip_len >> 8); ip[3] = static_cast<std::uint8_t>(ip_len);
    ip[4] = ip[5] = ip[6] = ip[7] = 0;
    ip[8] = 64; ip[9] = 17; ip[10] = ip[11] = 0;
    ip[12] = 10; ip[13] = 0; ip[14] = 0; ip[15] = 1;
    ip[16] = 10; ip[17] = 0; ip[18] = 0; ip[19] = 2;
    ip[20] = static_cast<std::uint8_t>(sport >> 8); ip[21] = static_cast<std::uint8_t>(sport);
    ip[22] = 443 >> 8; ip[23] = 443 & 0xff;
    ip[24] = static_cast<std::uint8_t>((8 + payload) >> 8); ip[25] = static_cast<std::uint8_t>(8 + payload);
    ip[26] = ip[27] = 0;
    f.insert(f.end(), ip.begin(), ip.end());
    return f;
}

struct temp_file {
    std::string path;
    explicit temp_file(const bytes& data) {
        static int n = 0;
        path = (fs::temp_directory_path() /
                ("flowpic-pcapng-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".pcapng"))
                   .string();
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    }
    ~temp_file() {
        std::error_code ec;
        fs::remove(path, ec);
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
};

template <class Size = size::ip_length>
std::vector<keyed_packet> read_all(const std::string& path, source::capture_stats* stats = nullptr) {
    source::pcapng_file<Size> src(path);
    std::vector<keyed_packet> out;
    keyed_packet kp;
    while (src.next(kp)) out.push_back(kp);
    if (stats) *stats = src.stats();
    return out;
}

std::string error_of(const std::string& path) {
    try {
        (void)read_all(path);
    } catch (const format_error& e) {
        return e.what();
    }
    return "";
}

constexpr std::uint64_t S = 1'600'000'000;  // seconds since the epoch
constexpr std::int64_t NS = 1'600'000'000'000'000'000;

}  // namespace

TEST_CASE("pcapng_file: timestamps at every if_tsresol and if_tsoffset, rounded down") {
    const std::int64_t plus100 = 100, minus_s = -1'600'000'000;
    struct iface {
        int tsresol;
        const std::int64_t* offset;
    };
    const std::vector<iface> ifaces = {
        {9, nullptr},    {3, nullptr},    {0x8A, nullptr}, {0x9E, nullptr}, {12, nullptr}, {0, nullptr},
        {0x80, nullptr}, {6, &plus100},   {6, &minus_s},   {0xBF, nullptr}, {19, nullptr}, {-1, nullptr},
    };
    struct sample {
        std::uint32_t iface;
        std::uint64_t ts;
        std::int64_t ns;
    };
    const std::vector<sample> cases = {
        {0, S * 1'000'000'000 + 123'456'789, NS + 123'456'789},
        {1, S * 1000 + 999, NS + 999'000'000},
        {2, S * 1024 + 1, NS + 976'562},              // 1/1024 s = 976562.5 ns
        {2, S * 1024 + 1023, NS + 999'023'437},       // 1023/1024 s = 999023437.5 ns
        {3, (S << 30) + 1, NS},                       // 2^-30 s = 0.93 ns
        {3, (S << 30) + 3, NS + 2},                   // 2.79 ns
        {3, (S << 30) + (1u << 29), NS + 500'000'000},
        {4, 10'000'000ull * 1'000'000'000'000ull + 1999, 10'000'000'000'000'001},  // 10^-12 s units
        {5, S, NS},                                   // whole seconds (10^0)
        {6, S, NS},                                   // whole seconds (2^0)
        {7, S * 1'000'000 + 5, NS + 100'000'005'000}, // if_tsoffset +100 s
        {8, S * 1'000'000 + 7, 7'000},                // if_tsoffset -1.6e9 s
        {9, (std::uint64_t{3} << 62) + 5, 1'500'000'000},  // 2^-63 s units: 1.5 s (Wireshark 4.0: 1.0 s)
        {10, 9'999'999'999'999'999'999ull, 999'999'999},   // 10^-19 s units (Wireshark 4.0: 0)
        {11, S * 1'000'000 + 42, NS + 42'000},        // no if_tsresol: microseconds
    };
    for (bool big : {false, true}) {
        CAPTURE(big);
        writer w{big, {}};
        w.shb();
        for (const auto& i : ifaces) w.idb(1, 0, i.tsresol, i.offset);
        for (std::size_t k = 0; k < cases.size(); ++k)
            w.epb(cases[k].iface, cases[k].ts, udp_frame(static_cast<std::uint16_t>(40000 + k)));
        const temp_file f(w.b);
        const auto got = read_all(f.path);
        REQUIRE(got.size() == cases.size());
        for (std::size_t k = 0; k < cases.size(); ++k) {
            CAPTURE(k);
            CHECK(got[k].key.sport == 40000 + k);
            CHECK(got[k].pkt.time_ns == cases[k].ns);
        }
        source::pcapng_file<> src(f.path);
        REQUIRE(src.interfaces().size() == ifaces.size());
        CHECK(src.interfaces()[2].units_per_second == 1024);
        CHECK(src.interfaces()[4].units_per_second == 1'000'000'000'000ull);
        CHECK(src.interfaces()[7].offset_s == 100);
        CHECK(src.interfaces()[11].units_per_second == 1'000'000);
    }
}

TEST_CASE("pcapng_file: Simple Packet Blocks and obsolete Packet Blocks") {
    writer w;
    w.shb();
    w.idb(1, 64);  // snaplen 64: a Simple Packet Block holds at most 64 bytes of its frame
    w.idb(1, 0);
    const bytes big = udp_frame(40001, 300);
    w.spb(static_cast<std::uint32_t>(big.size()), bytes(big.begin(), big.begin() + 64));
    w.obsolete_pb(1, S * 1'000'000 + 5, udp_frame(40002, 10));
    w.spb(static_cast<std::uint32_t>(udp_frame(40003).size()), udp_frame(40003));
    const temp_file f(w.b);
    source::capture_stats st;
    const auto got = read_all(f.path, &st);
    REQUIRE(got.size() == 3);
    CHECK(got[0].key.sport == 40001);
    CHECK(got[0].pkt.size == 328);       // from the IP header, although 64 bytes were captured
    CHECK(got[0].pkt.time_ns == 0);      // no timestamp in a Simple Packet Block (as Wireshark shows)
    CHECK(got[1].key.sport == 40002);
    CHECK(got[1].pkt.time_ns == NS + 5'000);
    CHECK(got[2].key.sport == 40003);
    CHECK(st.frames == 3);
    CHECK(st.truncated == 0);
    const auto wire = read_all<size::wire_length>(f.path);
    REQUIRE(wire.size() == 3);
    CHECK(wire[0].pkt.size == big.size());  // the SPB's original length
}

TEST_CASE("pcapng_file: sections of both byte orders, each with its own interfaces") {
    writer le{false, {}};
    le.shb();
    le.idb(1, 0, 9);  // nanoseconds
    le.epb(0, S * 1'000'000'000 + 1, udp_frame(40001));
    writer be{true, {}};
    be.shb();
    be.idb(113, 96);  // Linux cooked, microseconds: interface 0 again, in the new section
    bytes sll(16, 0);
    sll[14] = 0x08;  // protocol IPv4
    bytes frame = udp_frame(40002);
    sll.insert(sll.end(), frame.begin() + 14, frame.end());
    be.epb(0, S * 1'000'000 + 2, sll);
    writer all = le;
    all.raw(be.b);
    const temp_file f(all.b);
    const auto got = read_all(f.path);
    REQUIRE(got.size() == 2);
    CHECK(got[0].pkt.time_ns == NS + 1);
    CHECK(got[1].key.sport == 40002);
    CHECK(got[1].pkt.time_ns == NS + 2'000);
    source::pcapng_file<> src(f.path);
    keyed_packet kp;
    while (src.next(kp)) {
    }
    CHECK(src.sections() == 2);
    REQUIRE(src.interfaces().size() == 2);
    CHECK(src.interfaces()[1].link_type == 113);
    CHECK(src.interfaces()[1].snaplen == 96);
    CHECK(src.interfaces()[1].section == 1);
    CHECK(src.link_type() == 1);

    // interface 1 existed in the first section only
    writer bad = all;
    writer tail{true, {}};
    tail.epb(1, S, udp_frame(40003));
    const std::size_t at = bad.b.size();
    bad.raw(tail.b);
    const temp_file g(bad.b);
    const std::string what = error_of(g.path);
    CHECK_MESSAGE(what.find("byte offset " + std::to_string(at) + ":") != std::string::npos, what);
    CHECK_MESSAGE(what.find("interface 1") != std::string::npos, what);
}

TEST_CASE("pcapng_file: blocks it does not read are skipped, whatever their size") {
    writer w;
    w.shb();
    w.idb();
    w.epb(0, S * 1'000'000, udp_frame(40001));
    w.block(4, bytes(16, 0));               // Name Resolution Block
    w.block(5, bytes(20, 0));               // Interface Statistics Block
    w.block(10, bytes(24, 1));              // Decryption Secrets Block
    w.block(0x40000BAD, bytes(3 << 20, 7)); // a 3 MiB custom block: larger than the read buffer
    w.block(0x12345678, bytes(4, 0));       // unknown
    w.epb(0, S * 1'000'000 + 1, udp_frame(40002));
    const temp_file f(w.b);
    const auto got = read_all(f.path);
    REQUIRE(got.size() == 2);
    CHECK(got[1].key.sport == 40002);
}

TEST_CASE("pcapng_file: packets larger than the read buffer, and blocks across its refills") {
    writer w;
    w.shb();
    w.idb();
    // frames of 1.5 MiB and 3 MiB (IP lengths are 16 bits: the frame carries a small datagram
    // and trailing bytes, as a capture of jumbo or reassembled frames may)
    bytes huge = udp_frame(40000, 100);
    huge.resize(3u << 19, 0xab);
    w.epb(0, S * 1'000'000, huge);
    std::size_t n = 0;
    for (; w.b.size() < (5u << 20); ++n)  // ~5 MiB of packets of varied sizes
        w.epb(0, S * 1'000'000 + n + 1, udp_frame(static_cast<std::uint16_t>(n % 60000), (n * 37) % 1400));
    huge.resize(3u << 20, 0xcd);
    w.epb(0, S * 1'000'000 + n + 1, huge);
    const temp_file f(w.b);
    source::capture_stats st;
    const auto got = read_all(f.path, &st);
    REQUIRE(got.size() == n + 2);
    CHECK(got.front().pkt.size == 128);
    for (std::size_t i = 0; i < n; ++i) {
        if (got[i + 1].key.sport != i % 60000 || got[i + 1].pkt.size != 28 + (i * 37) % 1400 ||
            got[i + 1].pkt.time_ns != NS + static_cast<std::int64_t>((i + 1) * 1000)) {
            FAIL("packet " << i << " differs");
        }
    }
    CHECK(got.back().pkt.size == 128);
    CHECK(st.frames == n + 2);
    const auto wire = read_all<size::wire_length>(f.path);
    CHECK(wire.back().pkt.size == (3u << 20));
}

TEST_CASE("pcapng_file: a packet block beyond 16 MiB is refused, not allocated") {
    writer w;
    w.shb();
    w.idb();
    const std::size_t at = w.b.size();
    bytes huge = udp_frame(40000);
    huge.resize((16u << 20) + 4, 0);
    w.epb(0, S, huge);
    const temp_file f(w.b);
    const std::string what = error_of(f.path);
    CHECK_MESSAGE(what.find("byte offset " + std::to_string(at) + ":") != std::string::npos, what);
    CHECK_MESSAGE(what.find("16 MiB") != std::string::npos, what);
}

TEST_CASE("pcapng_file: damaged interface descriptions and versions") {
    auto with_idb = [](const bytes& options) {
        writer w;
        w.shb();
        writer body = w.sub();
        body.u16(1);
        body.u16(0);
        body.u32(0);
        body.raw(options);
        w.block(1, body.b);
        w.epb(0, S, udp_frame(40000));
        return w.b;
    };
    SUBCASE("an option running past the block") {
        writer o;
        o.u16(2);     // if_name
        o.u16(200);   // but 4 bytes follow
        o.u32(0x41414141);
        const temp_file f(with_idb(o.b));
        const std::string what = error_of(f.path);
        CHECK_MESSAGE(what.find("byte offset 28:") != std::string::npos, what);
        CHECK_MESSAGE(what.find("option 2") != std::string::npos, what);
    }
    SUBCASE("resolutions finer than 64-bit timestamps hold") {
        for (std::uint8_t r : {std::uint8_t{20}, std::uint8_t{0xC0}}) {  // 10^-20, 2^-64
            CAPTURE(int{r});
            writer o;
            o.u16(9);
            o.u16(1);
            o.u32(r);
            const temp_file f(with_idb(o.b));
            const std::string what = error_of(f.path);
            CHECK_MESSAGE(what.find("byte offset 28:") != std::string::npos, what);
            CHECK_MESSAGE(what.find("if_tsresol") != std::string::npos, what);
        }
    }
    SUBCASE("options of odd lengths are skipped as Wireshark skips them") {
        writer o;
        o.u16(9);  // if_tsresol of 2 bytes: ignored (microseconds stay)
        o.u16(2);
        o.u32(0x0909);
        o.u16(0x8001);  // a custom-range option code with 1 byte, padded
        o.u16(1);
        o.u32(0xff);
        const temp_file f(with_idb(o.b));
        const auto got = read_all(f.path);
        REQUIRE(got.size() == 1);
        CHECK(got[0].pkt.time_ns == static_cast<std::int64_t>(S) * 1000);
    }
    SUBCASE("major versions other than 1") {
        for (std::uint16_t major : {std::uint16_t{0}, std::uint16_t{2}}) {
            writer w;
            w.shb(major);
            const temp_file f(w.b);
            const std::string what = error_of(f.path);
            CHECK_MESSAGE(what.find("byte offset 0:") != std::string::npos, what);
            CHECK_MESSAGE(what.find("version " + std::to_string(major) + ".0") != std::string::npos, what);
        }
    }
    SUBCASE("a packet before any interface") {
        writer w;
        w.shb();
        w.epb(0, S, udp_frame(40000));
        const temp_file f(w.b);
        CHECK_MESSAGE(error_of(f.path).find("byte offset 28:") != std::string::npos, error_of(f.path));
        writer s;
        s.shb();
        s.spb(42, udp_frame(40000));
        const temp_file g(s.b);
        CHECK_MESSAGE(error_of(g.path).find("Simple Packet Block before") != std::string::npos, error_of(g.path));
    }
}
