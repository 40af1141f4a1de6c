// The per-packet session CSVs of ../shared/data/video-3platform through source::packet_csv and the
// flow table, against an oracle computed here from the raw text with a separate, naive parser, and
// against the README's figures: sessions 505 / 953 / 263 and 15 s windows 585 / 1,199 / 264.
// The windows that reproduce the README: each session as one bidirectional flow, complete,
// non-overlapping 15 s windows from its first packet (blocks::specs::counted15; any minimum from
// 1 to 11 packets gives the same counts).
#include <doctest/doctest.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/source/packet_csv.hpp"
#include "shared_data.hpp"

using namespace flowpic;
namespace fs = std::filesystem;

namespace {

struct session_truth {
    std::string name;
    std::uint64_t packets = 0, up_packets = 0, up_bytes = 0, down_bytes = 0;
    std::vector<std::int64_t> times_us;  // sorted
    std::vector<std::size_t> windows;    // packets in each kept 15 s window
};

// The oracle's reading: getline, split at the comma, strtoll. No flowpic code.
std::vector<session_truth> read_truth(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<session_truth> out;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line == "rel_ts_us,len") continue;
        if (line.rfind("session,", 0) == 0) {
            out.emplace_back();
            out.back().name = line.substr(8);
            continue;
        }
        const auto comma = line.find(',');
        const long long t = std::stoll(line.substr(0, comma));
        const long long v = std::stoll(line.substr(comma + 1));
        auto& s = out.back();
        ++s.packets;
        s.times_us.push_back(t);
        if (line[comma + 1] == '-') s.down_bytes += static_cast<std::uint64_t>(-v);
        else {
            ++s.up_packets;
            s.up_bytes += static_cast<std::uint64_t>(v);
        }
    }
    const std::int64_t L = 15'000'000;
    for (auto& s : out) {
        std::sort(s.times_us.begin(), s.times_us.end());
        if (s.times_us.empty()) continue;
        const std::int64_t first = s.times_us.front(), last = s.times_us.back();
        for (std::int64_t start = first; start + L <= last; start += L) {
            const auto lo = std::lower_bound(s.times_us.begin(), s.times_us.end(), start);
            const auto hi = std::lower_bound(s.times_us.begin(), s.times_us.end(), start + L);
            if (hi - lo >= 10) s.windows.push_back(static_cast<std::size_t>(hi - lo));
        }
    }
    return out;
}

struct platform_result {
    std::size_t sessions = 0, windows = 0, truth_windows = 0, packets = 0;
    std::size_t block_packets_differ = 0;  // blocks whose packet count differs from the sorted oracle
};

platform_result check_platform(const std::string& platform) {
    platform_result r;
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(test::shared("video-3platform/" + platform)))
        if (e.is_regular_file() && e.path().extension() == ".csv") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    REQUIRE(!files.empty());
    for (const auto& file : files) {
        INFO(file.string());
        const auto truth = read_truth(file.string());

        source::packet_csv src(file.string());
        blocks::windowed_table<flows::bidirectional> table(flows::limits{}, blocks::specs::counted15);
        std::vector<std::vector<std::size_t>> blocks(truth.size() + 1);
        std::vector<flows::flow> ended;
        flows::callback_sink out{[&](const blocks::block& b) {
                                     const std::uint32_t s = b.owner->key.session;
                                     REQUIRE(s >= 1);
                                     REQUIRE(s <= truth.size());
                                     blocks[s].push_back(b.size());
                                 },
                                 [&](const flows::flow& f, flows::end_reason) { ended.push_back(f); }};
        table.consume(src, out);

        REQUIRE(src.sessions() == truth.size());
        REQUIRE(ended.size() == truth.size());
        for (std::uint32_t i = 1; i <= truth.size(); ++i) {
            const auto& t = truth[i - 1];
            const auto& f = ended[i - 1];
            INFO("session " << t.name);
            CHECK(src.session_name(i) == t.name);
            CHECK(f.key == source::packet_csv::session_key(i));  // client -> server
            CHECK(f.packets == t.packets);
            CHECK(f.bytes == t.up_bytes + t.down_bytes);
            CHECK(f.first_ns == t.times_us.front() * 1000);
            CHECK(f.last_ns == t.times_us.back() * 1000);
            CHECK(blocks[i].size() == t.windows.size());
            if (blocks[i].size() == t.windows.size())
                for (std::size_t k = 0; k < t.windows.size(); ++k) r.block_packets_differ += blocks[i][k] != t.windows[k];
            r.windows += blocks[i].size();
            r.truth_windows += t.windows.size();
            r.packets += f.packets;
        }
        r.sessions += truth.size();

        // Unidirectional: each direction of a session is its own flow.
        source::packet_csv again(file.string());
        flows::flow_table<flows::unidirectional> uni;
        std::size_t flows = 0;
        std::uint64_t up = 0;
        flows::callback_sink count{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) {
                                       ++flows;
                                       if (f.key.sport == source::packet_csv::up_port) up += f.packets;
                                   }};
        uni.consume(again, count);
        std::size_t want_flows = 0;
        std::uint64_t want_up = 0;
        for (const auto& t : truth) {
            want_flows += (t.up_packets > 0) + (t.packets > t.up_packets);
            want_up += t.up_packets;
        }
        CHECK(flows == want_flows);
        CHECK(up == want_up);
    }
    return r;
}

void run(const std::string& platform, std::size_t sessions, std::size_t windows) {
    const platform_result r = check_platform(platform);
    MESSAGE(platform << ": " << r.sessions << " sessions, " << r.packets << " packets, " << r.windows
                     << " windows of 15 s; " << r.block_packets_differ
                     << " blocks differ in packet count from the time-sorted oracle");
    CHECK(r.sessions == sessions);
    CHECK(r.truth_windows == windows);
    CHECK(r.windows == windows);
    CHECK(r.block_packets_differ == 0);
}

}  // namespace

TEST_CASE("video-3platform YouTube: 505 sessions, 585 windows of 15 s") { run("Youtube", 505, 585); }
TEST_CASE("video-3platform Bilibili: 953 sessions, 1199 windows of 15 s") { run("Bilibili", 953, 1199); }
TEST_CASE("video-3platform Twitch: 263 sessions, 264 windows of 15 s") { run("Twitch", 263, 264); }
