// Inputs cut short or damaged part way (source/damage.hpp): source::until_damage hands out every
// record before the damage and keeps it (file, byte offset or line) instead of throwing, for pcap,
// pcapng and CSV sources, through the flow table and train::for_each_block; on_damage::refuse
// throws as the inner source does (--strict).
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/presets/mini_flowpic.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/damage.hpp"
#include "flowpic/source/frames.hpp"
#include "flowpic/source/packet_csv.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/pcapng_file.hpp"
#include "flowpic/train/file_blocks.hpp"
#include "test_files.hpp"

using namespace flowpic;
using bytes = std::vector<std::uint8_t>;

namespace {

// Ethernet + IPv4 + UDP 10.0.0.1:sport -> 10.0.0.2:443, 20 payload bytes.
bytes udp_frame(std::uint16_t sport) {
    bytes f(14, 0);
    f[12] = 0x08;
    bytes ip(48, 0x5a);
    ip[0] = 0x45; ip[1] = 0; ip[2] = 0; ip[3] = 48;
    ip[4] = ip[5] = ip[6] = ip[7] = 0;
    ip[8] = 64; ip[9] = 17; ip[10] = ip[11] = 0;
    ip[12] = 10; ip[13] = 0; ip[14] = 0; ip[15] = 1;
    ip[16] = 10; ip[17] = 0; ip[18] = 0; ip[19] = 2;
    ip[20] = static_cast<std::uint8_t>(sport >> 8); ip[21] = static_cast<std::uint8_t>(sport);
    ip[22] = 0x01; ip[23] = 0xbb; ip[24] = 0; ip[25] = 28;
    f.insert(f.end(), ip.begin(), ip.end());
    return f;
}

constexpr int frames = 4;

// A classic pcap of `frames` records (sports 1000, 1001, ...) one second apart; record_ends[i]
// is where record i ends.
bytes make_pcap(std::vector<std::size_t>& record_ends) {
    test::byte_writer w;
    w.u32(0xa1b2c3d4); w.u16(2); w.u16(4); w.u32(0); w.u32(0); w.u32(65535); w.u32(1);
    for (int i = 0; i < frames; ++i) {
        const bytes f = udp_frame(static_cast<std::uint16_t>(1000 + i));
        w.u32(1'700'000'000u + static_cast<std::uint32_t>(i)); w.u32(0);
        w.u32(static_cast<std::uint32_t>(f.size())); w.u32(static_cast<std::uint32_t>(f.size()));
        w.raw(f);
        record_ends.push_back(w.b.size());
    }
    return w.b;
}

// The same packets as a pcapng: SHB, IDB, an EPB each.
bytes make_pcapng(std::vector<std::size_t>& record_ends) {
    test::byte_writer w;
    w.u32(0x0a0d0d0a); w.u32(28); w.u32(0x1a2b3c4d); w.u16(1); w.u16(0); w.u64(~std::uint64_t{0}); w.u32(28);
    w.u32(1); w.u32(20); w.u16(1); w.u16(0); w.u32(0); w.u32(20);
    for (int i = 0; i < frames; ++i) {
        const bytes f = udp_frame(static_cast<std::uint16_t>(1000 + i));
        const std::uint64_t us = (1'700'000'000ull + static_cast<std::uint64_t>(i)) * 1'000'000ull;
        const std::uint32_t len = 32 + static_cast<std::uint32_t>((f.size() + 3) / 4 * 4);
        w.u32(6); w.u32(len); w.u32(0);
        w.u32(static_cast<std::uint32_t>(us >> 32)); w.u32(static_cast<std::uint32_t>(us));
        w.u32(static_cast<std::uint32_t>(f.size())); w.u32(static_cast<std::uint32_t>(f.size()));
        w.raw(f);
        w.pad4();
        w.u32(len);
        record_ends.push_back(w.b.size());
    }
    return w.b;
}

template <class Source>
void every_cut(const test::temp_dir& dir, const bytes& data, const std::vector<std::size_t>& ends,
               std::size_t headers_end, const std::string& name) {
    for (std::size_t n = headers_end; n <= data.size(); ++n) {
        CAPTURE(n);
        const std::string path = dir.write(name, data, n);
        std::size_t whole = 0;
        while (whole < ends.size() && ends[whole] <= n) ++whole;
        const std::size_t record_start = whole == 0 ? headers_end : ends[whole - 1];
        Source src(path);
        source::until_damage until(src);
        std::vector<keyed_packet> got;
        keyed_packet kp;
        while (until.next(kp)) got.push_back(kp);
        CHECK_FALSE(until.next(kp));  // stays at its end
        REQUIRE(got.size() == whole);
        for (std::size_t i = 0; i < whole; ++i) CHECK(got[i].key.sport == 1000 + i);
        if (n == record_start) {
            CHECK_FALSE(until.damage());
            continue;
        }
        REQUIRE(until.damage());
        CHECK(until.damage()->where.file == path);
        CHECK(until.damage()->where.offset == record_start);  // the damaged record's start
        CHECK(until.damage()->str().find(path + ": byte offset " + std::to_string(record_start) + ": ") == 0);

        // refuse: the same packets, then the inner source's error
        Source again(path);
        source::until_damage strict(again, source::on_damage::refuse);
        std::size_t before = 0;
        CHECK_THROWS_AS(
            [&] {
                while (strict.next(kp)) ++before;
            }(),
            format_error);
        CHECK(before == whole);
    }
}

}  // namespace

TEST_CASE("damage: a pcap cut at every offset past its header reads every whole record, then names the cut one") {
    test::temp_dir dir("damage");
    std::vector<std::size_t> ends;
    const bytes b = make_pcap(ends);
    every_cut<source::pcap_file<>>(dir, b, ends, 24, "cut.pcap");
}

TEST_CASE("damage: a pcapng cut at every offset past its header blocks, the same") {
    test::temp_dir dir("damage");
    std::vector<std::size_t> ends;
    const bytes b = make_pcapng(ends);
    every_cut<source::pcapng_file<>>(dir, b, ends, 48, "cut.pcapng");
}

TEST_CASE("damage: a CSV source stops at its bad line, after the good ones") {
    test::temp_dir dir("damage");
    const std::string path = dir.write("cut.csv", [] {
        const std::string t = "session,s\nrel_ts_us,len\n0,100\n1000,-200\n20";  // cut after "20"
        return bytes(t.begin(), t.end());
    }());
    {  // "20" alone: one field where two are expected
        source::packet_csv src(path);
        source::until_damage until(src);
        keyed_packet kp;
        int n = 0;
        while (until.next(kp)) ++n;
        CHECK(n == 2);
        REQUIRE(until.damage());
        CHECK(until.damage()->where.file == path);
        CHECK(until.damage()->where.line == 5);
        CHECK(until.damage()->str().find(path + ":5: ") == 0);
    }
    source::packet_csv src(path);
    source::until_damage strict(src, source::on_damage::refuse);
    keyed_packet kp;
    CHECK(strict.next(kp));
    CHECK(strict.next(kp));
    CHECK_THROWS_AS((void)strict.next(kp), format_error);
}

TEST_CASE("damage: flows still end and their windows come out; for_each_block and visit_frames keep the damage") {
    test::temp_dir dir("damage");
    std::vector<std::size_t> ends;
    const bytes b = make_pcap(ends);
    const std::string path = dir.write("cut.pcap", b, ends[2] + 10);  // 3 whole records, the 4th cut

    source::pcap_file<> src(path);
    source::until_damage until(src);
    blocks::windowed_table<> table({}, blocks::specs::whole_flow);
    std::size_t blocks_seen = 0, flows_ended = 0;
    flows::callback_sink out{[&](const blocks::block& blk) { blocks_seen += blk.packets.size() == 1; },
                             [&](const flows::flow&, flows::end_reason) { ++flows_ended; }};
    table.consume(until, out);
    CHECK(flows_ended == 3);
    CHECK(blocks_seen == 3);
    REQUIRE(until.damage());
    CHECK(until.damage()->where.offset == ends[2]);
    CHECK(until.stats().packets == 3);

    // the file path of dataset, eval and render
    std::optional<source::damage> d;
    train::file_block_options fo;
    fo.window = blocks::specs::whole_flow;
    fo.stop_at_damage = &d;
    std::size_t n = 0;
    train::for_each_block<presets::mini_flowpic>(path, [&](const blocks::block&, const train::block_origin&) { ++n; }, fo);
    CHECK(n == 3);
    REQUIRE(d);
    CHECK(d->where.offset == ends[2]);
    fo.stop_at_damage = nullptr;
    CHECK_THROWS_AS(train::for_each_block<presets::mini_flowpic>(
                        path, [&](const blocks::block&, const train::block_origin&) {}, fo),
                    format_error);

    // the frames of `flowpic label`
    std::optional<source::damage> fd;
    std::size_t frames_seen = 0;
    source::visit_frames(path, [&](const source::frame&) { ++frames_seen; }, &fd);
    CHECK(frames_seen == 3);
    REQUIRE(fd);
    CHECK(fd->where.file == path);
    CHECK_THROWS_AS(source::visit_frames(path, [&](const source::frame&) {}), format_error);
    std::vector<std::size_t> ng_ends;
    const bytes ng = make_pcapng(ng_ends);
    const std::string ng_path = dir.write("cut.pcapng", ng, ng_ends[1] + 3);
    fd.reset();
    frames_seen = 0;
    source::visit_frames(ng_path, [&](const source::frame&) { ++frames_seen; }, &fd);
    CHECK(frames_seen == 2);
    REQUIRE(fd);
    CHECK(fd->where.offset == ng_ends[1]);
}
