// Requet B2 (../shared/data/requet-youtube-b2) through `dataset --labels`: a label file made here
// from flows_unidir.csv (the golden flow table) for three captures, one row per connection:
// `video` for the connections whose server sent >= 1 MB from port 443, `ignore` for the rest.
// Every flow of the captures finds its row (none without one: the match works in both
// directions and on the rows' first times), every sample is of a video connection, and the three
// files land one in each split.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "flowpic/labels/label_file.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "shared_data.hpp"

using namespace flowpic;

namespace {

const std::string requet_dir = "requet-youtube-b2/";
const std::vector<std::string> requet_files{"baseline_May03_exp_288.pcap", "baseline_May03_exp_289.pcap",
                                     "baseline_May03_exp_290.pcap"};

struct unidir_row {
    flow_key key;
    std::uint64_t bytes = 0;
    std::int64_t first_ns = 0;
};

std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, ',')) f.push_back(x);
    return f;
}

// The label rows of the three files, and the canonical keys of their video connections.
std::vector<labels::flow_label> label_rows(std::set<flow_key>& video) {
    std::ifstream in(test::shared(requet_dir + "flows_unidir.csv"));
    REQUIRE_MESSAGE(in.good(), "cannot read flows_unidir.csv");
    std::string line;
    std::getline(in, line);
    std::map<std::pair<std::string, flow_key>, unidir_row> rows;  // (file, key) -> row
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto f = fields(line);
        if (f.size() < 10 || std::find(requet_files.begin(), requet_files.end(), f[0]) == requet_files.end()) continue;
        if (f[5] != "6" && f[5] != "17") continue;
        unidir_row r;
        r.key.src = *ip_address::parse(f[1]);
        r.key.dst = *ip_address::parse(f[2]);
        r.key.sport = static_cast<std::uint16_t>(std::stoul(f[3]));
        r.key.dport = static_cast<std::uint16_t>(std::stoul(f[4]));
        r.key.proto = static_cast<std::uint8_t>(std::stoul(f[5]));
        r.bytes = std::stoull(f[7]);
        REQUIRE(source::detail::parse_seconds_ns(f[8], r.first_ns));
        rows[{f[0], r.key}] = r;
    }
    REQUIRE(!rows.empty());
    std::vector<labels::flow_label> out;
    for (const auto& [fk, r] : rows) {
        const auto rev = rows.find({fk.first, r.key.reversed()});
        const bool first_side = rev == rows.end() || r.first_ns < rev->second.first_ns ||
                                (r.first_ns == rev->second.first_ns && r.key < rev->second.key);
        if (!first_side) continue;  // the connection's row is written from its initiator's side
        const auto is_video = [](const unidir_row& u) { return u.key.sport == 443 && u.bytes >= 1'000'000; };
        const bool v = is_video(r) || (rev != rows.end() && is_video(rev->second));
        if (v) video.insert(std::min(r.key, r.key.reversed()));
        out.push_back({r.key, r.first_ns, v ? "YouTube" : "Other", "Media", v ? "video" : "ignore"});
    }
    return out;
}

}  // namespace

TEST_CASE("Requet B2: a label file from flows_unidir.csv names every flow; video samples only, one file per split") {
    std::set<flow_key> video;
    train::build_options o;
    o.preset = "shapira2019";
    o.split.seed = 2;
    o.labelled = train::labelled_captures{labels::label_index(label_rows(video)), {}};
    for (const auto& f : requet_files) o.labelled->captures.push_back(test::shared(requet_dir + f));
    REQUIRE(!video.empty());
    train::build_report rep;
    const auto set = train::build_dataset(std::vector<std::string>{}, o, &rep);
    CHECK(rep.files == 3);
    CHECK(rep.flows_without_row == 0);
    CHECK(rep.flows_unnamed == 0);
    CHECK(rep.flows_labelled > 0);
    CHECK(set.classes == std::vector<std::string>{"video"});
    std::set<bool> from_server;
    for (const auto& s : set.samples) {
        flow_key k = s.key;
        k.session = 0;
        CHECK(video.count(std::min(k, k.reversed())) == 1);
        from_server.insert(k.sport == 443);
    }
    CHECK(from_server.count(true) == 1);
    std::map<std::string, std::set<train::split>> sides;
    std::set<train::split> parts;
    for (const auto& c : set.captures) {
        sides[c.name].insert(c.part);
        parts.insert(c.part);
    }
    CHECK(sides.size() == 3);
    CHECK(parts.size() == 3);  // 3 files of one class: one in each split
    MESSAGE("Requet B2 labelled: ", set.size(), " samples, ", rep.flows_labelled, " video flows, ", rep.flows_ignored,
            " ignored");
}
