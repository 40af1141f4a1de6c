// Requet group B2 (../shared/data/requet-youtube-b2): the flow table of every capture equals its
// TCP and UDP rows of flows_unidir.csv (the golden table, made with dpkt), row for row and in
// the same order: 5-tuple, packets, bytes, first and last time to the microsecond, and the
// counts of 15 s and 60 s blocks (complete non-overlapping windows with >= 10 packets).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/flows/flow_csv.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;

namespace {

const std::string requet_flows_dir = "requet-youtube-b2/";

// file -> its TCP/UDP rows, without the file column, in the table's order.
std::map<std::string, std::vector<std::string>> golden_rows() {
    std::ifstream in(test::shared(requet_flows_dir + "flows_unidir.csv"));
    REQUIRE_MESSAGE(in.good(), "cannot read flows_unidir.csv");
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    REQUIRE(line == "file,src,dst,sport,dport,proto,npk,bytes,first,last,b15,b60");
    std::map<std::string, std::vector<std::string>> rows;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const auto c1 = line.find(',');
        REQUIRE(c1 != std::string::npos);
        std::string rest = line.substr(c1 + 1);
        // the protocol is the fifth field of the rest
        std::size_t p = 0;
        for (int i = 0; i < 4; ++i) p = rest.find(',', p) + 1;
        const std::string proto = rest.substr(p, rest.find(',', p) - p);
        auto& v = rows[line.substr(0, c1)];  // every file gets an entry, even without TCP/UDP rows
        if (proto == "6" || proto == "17") v.push_back(std::move(rest));
    }
    return rows;
}

// flowpic's flow table of one capture, as rows of the golden table.
std::vector<std::string> flowpic_rows(const std::string& path) {
    struct row {
        std::string text;
        std::uint64_t b15 = 0, b60 = 0;
    };
    std::vector<row> rows;
    std::map<std::uint64_t, std::uint64_t> b15, b60;  // flow id -> blocks
    std::vector<std::uint64_t> ids60;

    source::pcap_file<> src(path);
    blocks::windowed_table<> t15({}, blocks::specs::counted15);
    blocks::windowed_table<> t60({}, blocks::specs::counted60);
    flows::callback_sink s15{[&](const blocks::block& b) { ++b15[b.owner->id]; },
                             [&](const flows::flow& f, flows::end_reason r) {
                                 CHECK(r == flows::end_reason::end_of_input);
                                 CHECK(f.id == rows.size());
                                 rows.push_back({flows::key_csv(f.key) + "," + std::to_string(f.packets) + "," +
                                                     std::to_string(f.bytes) + "," + flows::format_time_us(f.first_ns) +
                                                     "," + flows::format_time_us(f.last_ns),
                                                 0, 0});
                             }};
    flows::callback_sink s60{[&](const blocks::block& b) { ++b60[b.owner->id]; },
                             [&](const flows::flow& f, flows::end_reason) { ids60.push_back(f.id); }};
    keyed_packet kp;
    while (src.next(kp)) {
        t15.add(kp, s15);
        t60.add(kp, s60);
    }
    t15.finish(s15);
    t60.finish(s60);
    // both tables number the same flows the same way, so ids join them
    REQUIRE(ids60.size() == rows.size());
    CHECK(std::is_sorted(ids60.begin(), ids60.end()));

    std::vector<std::string> out;
    out.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i)
        out.push_back(rows[i].text + "," + std::to_string(b15[i]) + "," + std::to_string(b60[i]));
    return out;
}

}  // namespace

TEST_CASE("Requet B2: flows_unidir.csv names every capture of the set") {
    std::set<std::string> on_disk, golden;
    for (const auto& e : std::filesystem::directory_iterator(test::shared(requet_flows_dir)))
        if (e.path().extension() == ".pcap") on_disk.insert(e.path().filename().string());
    for (const auto& [file, rows] : golden_rows()) golden.insert(file);
    CHECK(on_disk == golden);
    CHECK(on_disk.size() == 27);  // the README's group B2
}

TEST_CASE("Requet B2: TCP/UDP flows, packets, bytes, times and 15 s / 60 s blocks equal flows_unidir.csv") {
    std::size_t flows = 0, blocks15 = 0, blocks60 = 0, mismatched = 0;
    for (const auto& [file, want] : golden_rows()) {
        CAPTURE(file);
        const auto got = flowpic_rows(test::shared(requet_flows_dir + file));
        CHECK(got.size() == want.size());
        std::size_t shown = 0;
        for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
            if (got[i] == want[i]) continue;
            ++mismatched;
            if (++shown <= 3) CHECK(got[i] == want[i]);  // a few, not thousands
        }
        flows += got.size();
        for (const auto& r : got) {
            const auto c2 = r.rfind(',');
            const auto c1 = r.rfind(',', c2 - 1);
            blocks15 += std::stoul(r.substr(c1 + 1, c2 - c1 - 1));
            blocks60 += std::stoul(r.substr(c2 + 1));
        }
    }
    CHECK(mismatched == 0);
    MESSAGE("Requet B2: " << flows << " TCP/UDP flows, " << blocks15 << " blocks of 15 s, " << blocks60
                          << " of 60 s");
}
