// Datasets for training (train/build_dataset.hpp, split.hpp, dataset_file.hpp, set_dataset.hpp):
// split counts computed by hand; the split never puts a capture on two sides, is stratified,
// seeded and independent of sample order; the dataset file reads back every field and refuses
// every truncation and every damaged byte with the file and offset; the pictures of a dataset
// equal what a flow table and picture maker make of the same file (an independent pipeline
// written here), and pictures re-made from the stored packets equal the stored ones.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <unistd.h>

#include "test_files.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/confusion_png.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/set_dataset.hpp"
#include "flowpic/train/split.hpp"
#include "shared_data.hpp"

using namespace flowpic;
namespace fs = std::filesystem;
using train::split;

namespace {

// A directory removed with everything in it at the end of the test.
using test::temp_dir;

void copy_into(const std::string& from, const std::string& to) {
    fs::create_directories(fs::path(to).parent_path());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

template <class T>
void put(std::vector<std::uint8_t>& b, T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i) b.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i)));
}

// One flow of a lab flow-records file (docs/lab.md, "The flow-records format"): its key, labels
// and packets as (microseconds since its first packet, IP total length).
struct fpr_entry {
    flow_key key;
    std::string capture;
    std::uint8_t category = 1, vpn = 0;
    std::int64_t first_ns = 0;
    std::vector<std::pair<std::uint32_t, std::uint16_t>> packets;
};

void write_fpr_entries(const std::string& path, const std::vector<fpr_entry>& flows) {
    std::vector<std::string> strings{"app"};
    std::vector<std::uint8_t> s, f, p;
    std::map<std::string, std::uint16_t> index;
    for (const auto& fl : flows)
        if (index.try_emplace(fl.capture, static_cast<std::uint16_t>(strings.size())).second) strings.push_back(fl.capture);
    for (const auto& str : strings) {
        put<std::uint16_t>(s, static_cast<std::uint16_t>(str.size()));
        s.insert(s.end(), str.begin(), str.end());
    }
    std::uint64_t first = 0;
    for (const auto& fl : flows) {
        f.insert(f.end(), fl.key.src.bytes.begin(), fl.key.src.bytes.end());
        f.insert(f.end(), fl.key.dst.bytes.begin(), fl.key.dst.bytes.end());
        put<std::uint16_t>(f, fl.key.sport);
        put<std::uint16_t>(f, fl.key.dport);
        f.push_back(fl.key.proto);
        f.push_back(static_cast<std::uint8_t>(fl.key.src.family));
        f.push_back(fl.category);
        f.push_back(fl.vpn);
        put<std::uint16_t>(f, 0);
        put<std::uint16_t>(f, index[fl.capture]);
        put<std::uint32_t>(f, static_cast<std::uint32_t>(fl.packets.size()));
        put<std::int64_t>(f, fl.first_ns);
        put<std::uint64_t>(f, first);
        first += fl.packets.size();
        for (const auto& [us, size] : fl.packets) {
            put<std::uint32_t>(p, us);
            put<std::uint16_t>(p, size);
        }
    }
    std::vector<std::uint8_t> b;
    for (char c : std::string_view("FPRECORD")) b.push_back(static_cast<std::uint8_t>(c));
    put<std::uint16_t>(b, 1); put<std::uint16_t>(b, 64); put<std::uint16_t>(b, 64); put<std::uint16_t>(b, 6);
    put<std::uint32_t>(b, static_cast<std::uint32_t>(flows.size()));
    put<std::uint32_t>(b, static_cast<std::uint32_t>(strings.size()));
    put<std::uint64_t>(b, first);
    const std::uint64_t so = 64, fo = so + s.size(), po = fo + f.size(), size = po + p.size();
    put(b, so); put(b, fo); put(b, po); put(b, size);
    b.insert(b.end(), s.begin(), s.end());
    b.insert(b.end(), f.begin(), f.end());
    b.insert(b.end(), p.begin(), p.end());
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Flows written here: each a run of packets every `gap_us` microseconds from 10.0.0.host to
// 10.0.0.1:443, sizes cycling through a few values.
struct fpr_flow {
    std::string capture;
    std::uint8_t vpn = 0, category = 1, host = 2;
    std::uint32_t packets = 30, gap_us = 500'000;
    std::int64_t first_ns = 1'700'000'000'000'000'000;
};

void write_fpr(const std::string& path, const std::vector<fpr_flow>& flows) {
    std::vector<fpr_entry> entries;
    std::uint16_t port = 40000;
    for (const auto& fl : flows) {
        fpr_entry e{{}, fl.capture, fl.category, fl.vpn, fl.first_ns, {}};
        const std::uint8_t src[4] = {10, 0, 0, fl.host}, dst[4] = {10, 0, 0, 1};
        e.key.src = ip_address::v4(src);
        e.key.dst = ip_address::v4(dst);
        e.key.sport = port++;
        e.key.dport = 443;
        e.key.proto = 6;
        for (std::uint32_t k = 0; k < fl.packets; ++k)
            e.packets.emplace_back(k * fl.gap_us, static_cast<std::uint16_t>(60 + (k * 397) % 1400));
        entries.push_back(std::move(e));
    }
    write_fpr_entries(path, entries);
}

std::vector<train::capture_info> captures_of(std::size_t label, std::size_t plain, std::size_t vpn, std::size_t unknown) {
    std::vector<train::capture_info> c;
    auto add = [&](const char* kind, std::size_t n, std::int8_t flag) {
        for (std::size_t i = 0; i < n; ++i)
            c.push_back({"c" + std::to_string(label) + "-" + kind + "-" + std::to_string(i), static_cast<std::uint32_t>(label), flag,
                         split::train});
    };
    add("plain", plain, 0);
    add("vpn", vpn, 1);
    add("x", unknown, -1);
    return c;
}

std::map<std::string, split> by_name(const std::vector<train::capture_info>& c) {
    std::map<std::string, split> m;
    for (const auto& x : c) m[x.name] = x.part;
    return m;
}

std::vector<std::uint8_t> slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The format_error message of decoding `b` ("" when it decoded).
std::string decode_error(const std::vector<std::uint8_t>& b, bool checksum = true) {
    try {
        train::dataset_read_options o;
        o.verify_checksum = checksum;
        (void)train::decode_dataset(b.data(), b.size(), "bad.fpd", o);
    } catch (const format_error& e) {
        return e.what();
    }
    return "";
}

// A small tree: class "alpha" with the bundled sample capture, class "zeta" with lab flow
// records of two captures (one plain, one VPN), plus files that must be skipped or ignored.
void small_tree(const temp_dir& t) {
    copy_into(test::repo("data/sample/sample.pcap"), t / "tree/alpha/sub/sample.pcap");
    std::ofstream(t / "tree/alpha/README.txt") << "not a capture\n";
    copy_into(test::repo("data/sample/sample.pcap"), t / "tree/alpha/.hidden.pcap");
    std::vector<fpr_flow> flows;
    for (int i = 0; i < 3; ++i) {
        flows.push_back({"lab/zeta-plain-000.pcap", 0, 3, static_cast<std::uint8_t>(10 + i), 40, 500'000});
        flows.push_back({"lab/zeta-vpn-000.pcap", 1, 3, static_cast<std::uint8_t>(20 + i), 25, 900'000});
    }
    write_fpr(t / "tree/zeta/z.fpr", flows);
    fs::create_directories(t.path / "tree/.git");
}

}  // namespace

TEST_CASE("split counts per class, computed by hand") {
    using c3 = std::array<std::size_t, 3>;
    const std::array<double, 3> f{0.7, 0.15, 0.15};
    CHECK(train::split_counts(0, f) == c3{0, 0, 0});
    CHECK(train::split_counts(1, f) == c3{1, 0, 0});
    CHECK(train::split_counts(2, f) == c3{2, 0, 0});   // 1.4/0.3/0.3: train keeps the remainder
    CHECK(train::split_counts(3, f) == c3{1, 1, 1});   // the minimums of three captures
    CHECK(train::split_counts(4, f) == c3{2, 1, 1});
    CHECK(train::split_counts(10, f) == c3{7, 1, 2});  // 7/1.5/1.5: the tie goes to test
    CHECK(train::split_counts(16, f) == c3{11, 2, 3}); // 11.2/2.4/2.4
    CHECK(train::split_counts(20, f) == c3{14, 3, 3});
    CHECK(train::split_counts(5, {0, 0, 1}) == c3{0, 0, 5});
    CHECK(train::split_counts(5, {1, 0, 0}) == c3{5, 0, 0});
    CHECK(train::split_counts(3, {0.8, 0.2, 0}) == c3{2, 1, 0});
    CHECK(train::split_counts(4, {2, 1, 1}) == c3{2, 1, 1});  // normalised
    CHECK(train::parse_fractions("0.7,0.15,0.15") == std::array<double, 3>{0.7, 0.15, 0.15});
    CHECK_THROWS_AS(train::parse_fractions("0.7,0.3"), std::invalid_argument);
    CHECK_THROWS_AS(train::parse_fractions("0.7,x,0.1"), std::invalid_argument);
    CHECK_THROWS_AS(train::parse_fractions("0,0,0"), std::invalid_argument);
    CHECK_THROWS_AS(train::parse_fractions("-1,1,1"), std::invalid_argument);
}

TEST_CASE("the split is stratified by class, seeded, independent of order, and mixes plain and VPN") {
    std::vector<train::capture_info> all;
    for (const auto& c : {captures_of(0, 8, 8, 0), captures_of(1, 0, 0, 3), captures_of(2, 0, 0, 2), captures_of(3, 0, 0, 1)})
        all.insert(all.end(), c.begin(), c.end());
    train::split_options o;
    o.seed = 7;
    auto a = all;
    train::assign_splits(a, 4, o);
    std::map<std::pair<std::uint32_t, split>, std::size_t> n;
    std::map<split, std::set<int>> class0_variants;
    for (const auto& c : a) {
        ++n[{c.label, c.part}];
        if (c.label == 0) class0_variants[c.part].insert(c.vpn);
    }
    CHECK(n[{0, split::train}] == 11);
    CHECK(n[{0, split::validation}] == 2);
    CHECK(n[{0, split::test}] == 3);
    CHECK(n[{1, split::train}] == 1);
    CHECK(n[{1, split::validation}] == 1);
    CHECK(n[{1, split::test}] == 1);
    CHECK(n[{2, split::train}] == 2);
    CHECK(n[{3, split::train}] == 1);
    // small splits hold both variants
    CHECK(class0_variants[split::validation] == std::set<int>{0, 1});
    CHECK(class0_variants[split::test] == std::set<int>{0, 1});

    // the same seed, the captures in another order: the same assignment, name by name
    auto b = all;
    std::mt19937 g(3);
    std::shuffle(b.begin(), b.end(), g);
    train::assign_splits(b, 4, o);
    CHECK(by_name(a) == by_name(b));

    // other seeds move captures
    int differ = 0;
    for (std::uint64_t seed = 8; seed < 13; ++seed) {
        auto c = all;
        train::assign_splits(c, 4, {o.fractions, seed});
        differ += by_name(c) != by_name(a);
    }
    CHECK(differ == 5);
}

TEST_CASE("build_dataset: sorted classes, captures by file or lab capture, skipped files, --where") {
    temp_dir t("train-test");
    small_tree(t);
    train::build_options o;
    o.preset = "mini_flowpic";
    train::build_report rep;
    const auto set = train::build_dataset(t / "tree", o, &rep);
    CHECK(set.classes == std::vector<std::string>{"alpha", "zeta"});
    CHECK(rep.files == 2);
    REQUIRE(rep.skipped.size() == 1);
    CHECK(rep.skipped[0].find("README.txt") != std::string::npos);
    std::set<std::string> names;
    for (const auto& c : set.captures) names.insert(c.name);
    CHECK(names == std::set<std::string>{"alpha/sub/sample.pcap", "lab/zeta-plain-000.pcap", "lab/zeta-vpn-000.pcap"});
    for (const auto& c : set.captures) CHECK(c.vpn == (c.name == "alpha/sub/sample.pcap" ? -1 : c.name.find("vpn") != std::string::npos ? 1 : 0));
    // mini_flowpic: one block per connection; the synthetic flows are 6 connections
    const auto counts = set.class_counts();
    CHECK(counts[1] == 6);
    CHECK(set.pictures.size() == set.size());
    CHECK(set.window == presets::mini_flowpic::window);

    o.where = {train::parse_where("vpn=yes")};
    const auto vpn = train::build_dataset(t / "tree", o);
    CHECK(vpn.size() == 3);
    for (const auto& s : vpn.samples) CHECK(vpn.captures[s.capture].name == "lab/zeta-vpn-000.pcap");
    o.where = {train::parse_where("vpn=no"), train::parse_where("application=app")};
    CHECK(train::build_dataset(t / "tree", o).size() == 3);
    CHECK_THROWS_AS(train::parse_where("vpn=maybe"), std::invalid_argument);
    CHECK_THROWS_AS(train::parse_where("colour=red"), std::invalid_argument);
    CHECK_THROWS_AS(train::build_dataset(t / "no-such-dir", o), io_error);
}

TEST_CASE("network_stats mixes the flows of each lab capture, in time order") {
    temp_dir t("train-test");
    const std::int64_t t0 = 1'700'000'000'000'000'000;
    std::vector<fpr_flow> flows{{"c/one.pcap", 0, 1, 2, 150, 500'000, t0},
                                {"c/two.pcap", 0, 1, 4, 130, 500'000, t0},
                                {"c/one.pcap", 0, 1, 3, 100, 700'000, t0 + 1'000'000'000}};
    write_fpr(t / "tree/video/v.fpr", flows);
    train::build_options o;
    o.preset = "network_stats";
    o.where = {train::parse_where("application=app")};
    const auto set = train::build_dataset(t / "tree", o);
    REQUIRE(set.size() == 2);  // one complete 60 s chunk per capture
    CHECK(set.captures[set.samples[0].capture].name == "c/one.pcap");
    CHECK(set.captures[set.samples[1].capture].name == "c/two.pcap");
    CHECK(set.samples[0].packets == 120 + 85);  // t < 60 s: 0.5 s steps from 0, 0.7 s steps from 1 s
    CHECK(set.samples[1].packets == 120);
    for (std::size_t i = 0; i < 2; ++i) {
        const auto p = set.packets_of(i);
        CHECK(std::is_sorted(p.begin(), p.end(), [](const packet& a, const packet& b) { return a.time_ns < b.time_ns; }));
        CHECK(set.samples[i].key == flow_key{});
    }
    o.where = {train::parse_where("vpn=yes")};
    CHECK(train::build_dataset(t / "tree", o).size() == 0);
}

TEST_CASE("a dataset's pictures and packets equal an independent flow table and maker on the same file") {
    // the preset's windows and grouping, spelled out here: mini_flowpic = bidirectional flows,
    // first 15 s; shapira2019 = unidirectional, 60 s windows as the authors cut them
    const std::string cap = test::repo("data/sample/sample.pcap");
    temp_dir t("train-test");
    copy_into(cap, t / "tree/x/sample.pcap");
    auto check = [&](auto preset, auto key_policy, const blocks::window_spec& w) {
        using P = decltype(preset);
        using K = decltype(key_policy);
        train::build_options o;
        o.preset = std::string(P::name);
        const auto set = train::build_dataset(t / "tree", o);
        picture::maker<typename P::picture> m;
        blocks::windowed_table<K> table({}, w);
        std::size_t i = 0;
        auto painter = train::make_painter(o.preset);
        std::vector<float> remade(set.pictures.channels() * set.pictures.height() * set.pictures.width());
        flows::callback_sink sink{[&](const blocks::block& b) {
                                      REQUIRE(i < set.size());
                                      const auto& s = set.samples[i];
                                      CHECK(s.block_start_ns == b.window_start_ns);
                                      CHECK(s.block_end_ns == b.window_end_ns);
                                      CHECK(s.key == b.owner->key);
                                      const auto pk = set.packets_of(i);
                                      CHECK(std::equal(pk.begin(), pk.end(), b.packets.begin(), b.packets.end()));
                                      const auto& want = m.dense(b);
                                      const auto got = set.pictures[i].densify();
                                      CHECK(std::equal(want.data.begin(), want.data.end(), got.data.begin(), got.data.end(),
                                                       [](auto a, float v) { return static_cast<float>(a) == v; }));
                                      // the picture again from the stored packets alone
                                      const blocks::block again{nullptr, pk, s.block_start_ns, s.block_end_ns, 0};
                                      painter->dense(again, remade.data());
                                      CHECK(remade == got.data);
                                      ++i;
                                  },
                                  flows::ignore{}};
        source::pcap_file<> src(cap);
        table.consume(src, sink);
        CHECK(i == set.size());
        CHECK(i > 5);
    };
    check(presets::mini_flowpic{}, flows::bidirectional{}, blocks::specs::mini_flowpic);
    check(presets::shapira2019{}, flows::unidirectional{}, blocks::specs::shapira2019);
}

TEST_CASE("lab flow records give the dataset their capture gives: one picture per connection, both directions") {
    // the lab's records hold one direction of a 5-tuple each (scripts/lab/make_dataset.py); made
    // here the same way from a real capture, they must give what the capture itself gives
    const std::string cap = test::repo("data/sample/sample.pcap");
    temp_dir t("train-test");
    copy_into(cap, t / "pcap/video/sample.pcap");
    std::vector<fpr_entry> flows;
    std::unordered_map<flow_key, std::size_t, flow_key_hash> index;
    source::pcap_file<> src(cap);
    keyed_packet kp;
    std::size_t reverse_halves = 0;
    while (src.next(kp)) {
        auto [it, fresh] = index.try_emplace(kp.key, flows.size());
        if (fresh) {
            flows.push_back({kp.key, "c/sample.pcap", 1, 0, kp.pkt.time_ns, {}});
            reverse_halves += index.contains(kp.key.reversed());
        }
        auto& f = flows[it->second];
        REQUIRE(kp.pkt.time_ns >= f.first_ns);
        f.packets.emplace_back(static_cast<std::uint32_t>((kp.pkt.time_ns - f.first_ns) / 1000),
                               static_cast<std::uint16_t>(kp.pkt.size));
    }
    REQUIRE(reverse_halves > 5);  // connections whose two directions are two records
    write_fpr_entries(t / "fpr/video/sample.fpr", flows);

    for (const std::string preset : {"mini_flowpic", "shapira2019", "network_stats"}) {
        INFO(preset);
        train::build_options o;
        o.preset = preset;
        const auto from_pcap = train::build_dataset(t / "pcap", o);
        const auto from_fpr = train::build_dataset(t / "fpr", o);
        REQUIRE(from_pcap.size() > 1);  // network_stats: a 60 s chunk of the whole capture
        REQUIRE(from_fpr.size() == from_pcap.size());
        std::size_t both_ways = 0;
        for (std::size_t i = 0; i < from_pcap.size(); ++i) {
            const auto& a = from_pcap.samples[i];
            const auto& b = from_fpr.samples[i];
            CHECK(a.key == b.key);
            CHECK(a.block_start_ns == b.block_start_ns);
            CHECK(a.block_end_ns == b.block_end_ns);
            // the records keep no order between packets of one time stamp in two flows
            const auto sa = from_pcap.packets_of(i), sb = from_fpr.packets_of(i);
            std::vector<packet> pa(sa.begin(), sa.end()), pb(sb.begin(), sb.end());
            const auto by_time = [](const packet& x, const packet& y) {
                return std::tie(x.time_ns, x.dir, x.size) < std::tie(y.time_ns, y.dir, y.size);
            };
            std::sort(pa.begin(), pa.end(), by_time);
            std::sort(pb.begin(), pb.end(), by_time);
            CHECK(pa == pb);
            CHECK(from_pcap.pictures[i].densify().data == from_fpr.pictures[i].densify().data);
            both_ways += std::any_of(pb.begin(), pb.end(), [](const packet& p) { return p.dir == direction::reverse; });
        }
        if (preset == "mini_flowpic") CHECK(both_ways > 0);  // bidirectional pictures
        if (preset == "shapira2019") CHECK(both_ways == 0);
    }
}

TEST_CASE("the lab dataset's split keeps every lab capture on one side, per class, reproducibly") {
    train::build_options o;
    o.preset = "mini_flowpic";
    o.split.seed = 3;
    const auto set = train::build_dataset(test::repo("data/lab/dataset"), o);
    CHECK(set.classes == std::vector<std::string>{"browsing", "chat", "file_transfer", "video", "voip"});
    CHECK(set.captures.size() == 100);  // 16 per class (8 plain, 8 VPN), video 36 (18 and 18)
    std::map<std::string, std::set<split>> sides;  // by name, not by index
    std::map<std::pair<std::uint32_t, split>, std::size_t> caps;
    for (const auto& s : set.samples) sides[set.captures[s.capture].name].insert(s.part);
    for (const auto& [name, parts] : sides) CHECK_MESSAGE(parts.size() == 1, name);
    for (const auto& c : set.captures) ++caps[{c.label, c.part}];
    for (std::uint32_t c = 0; c < 5; ++c) {  // 70/15/15 % of each class's captures
        const bool video = set.classes[c] == "video";
        CHECK(caps[{c, split::train}] == (video ? 25u : 11u));
        CHECK(caps[{c, split::validation}] == (video ? 5u : 2u));
        CHECK(caps[{c, split::test}] == (video ? 6u : 3u));
    }
    const auto again = train::encode_dataset(train::build_dataset(test::repo("data/lab/dataset"), o));
    CHECK(again == train::encode_dataset(set));
    o.split.seed = 4;
    CHECK(train::encode_dataset(train::build_dataset(test::repo("data/lab/dataset"), o)) != again);
}

TEST_CASE("dataset file: every field reads back, and re-encoding gives the same bytes") {
    temp_dir t("train-test");
    small_tree(t);
    for (const char* preset : {"mini_flowpic", "shapira2019", "network_stats"}) {
        train::build_options o;
        o.preset = preset;
        o.split = {{0.5, 0.25, 0.25}, 99};
        const auto set = train::build_dataset(t / "tree", o);
        REQUIRE(set.size() > 0);
        train::write_dataset(t / "d.fpd", set);
        const auto back = train::read_dataset(t / "d.fpd");
        CHECK(back.preset == set.preset);
        CHECK(back.classes == set.classes);
        CHECK(back.seed == 99);
        CHECK(back.fractions == set.fractions);
        CHECK(back.window == set.window);
        REQUIRE(back.captures.size() == set.captures.size());
        for (std::size_t i = 0; i < set.captures.size(); ++i) {
            CHECK(back.captures[i].name == set.captures[i].name);
            CHECK(back.captures[i].label == set.captures[i].label);
            CHECK(back.captures[i].vpn == set.captures[i].vpn);
            CHECK(back.captures[i].part == set.captures[i].part);
        }
        REQUIRE(back.size() == set.size());
        for (std::size_t i = 0; i < set.size(); ++i) {
            const auto& a = set.samples[i];
            const auto& b = back.samples[i];
            CHECK((a.label == b.label && a.part == b.part && a.capture == b.capture && a.key == b.key &&
                   a.block_start_ns == b.block_start_ns && a.block_end_ns == b.block_end_ns && a.packets == b.packets));
            const auto pa = set.packets_of(i), pb = back.packets_of(i);
            CHECK(std::equal(pa.begin(), pa.end(), pb.begin(), pb.end()));
            CHECK(set.pictures[i].densify() == back.pictures[i].densify());
        }
        CHECK(train::encode_dataset(back) == slurp(t / "d.fpd"));
        // a file of one preset where another is expected
        train::dataset_read_options ro;
        ro.preset = std::string(preset) == "shapira2019" ? "mini_flowpic" : "shapira2019";
        try {
            (void)train::read_dataset(t / "d.fpd", ro);
            FAIL("a wrong preset was accepted");
        } catch (const format_error& e) {
            CHECK(std::string(e.what()).find("d.fpd: byte offset 64: the dataset holds pictures of preset") != std::string::npos);
        }
    }
    CHECK_THROWS_AS(train::read_dataset(t / "missing.fpd"), io_error);
}

TEST_CASE("dataset file: every truncation and every damaged byte is a format_error with file and offset") {
    temp_dir t("train-test");
    std::vector<fpr_flow> flows{{"c/a.pcap", 0, 1, 2, 12, 700'000}, {"c/b.pcap", 1, 1, 3, 9, 300'000}};
    write_fpr(t / "tree/video/v.fpr", flows);
    train::build_options o;
    o.preset = "mini_flowpic";
    const auto bytes = train::encode_dataset(train::build_dataset(t / "tree", o));
    REQUIRE(bytes.size() < 4000);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
        const auto e = decode_error(cut);
        CHECK_MESSAGE(e.rfind("bad.fpd: byte offset ", 0) == 0, "cut at ", n, ": '", e, "'");
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        auto b = bytes;
        b[i] ^= 0x5a;
        const auto e = decode_error(b);
        CHECK_MESSAGE(e.rfind("bad.fpd: byte offset ", 0) == 0, "byte ", i, ": '", e, "'");
        (void)decode_error(b, false);  // the structure alone: an error or a set, never anything else
    }
    CHECK(decode_error(bytes) == "");
    auto magic = bytes;
    magic[0] = 'X';
    CHECK(decode_error(magic).find("byte offset 0: not a flowpic dataset file") != std::string::npos);
    auto version = bytes;
    version[8] = 3;  // version 2 (label maps) reads since issue 14
    CHECK(decode_error(version).find("byte offset 8: dataset format version 3") != std::string::npos);
    auto tail = bytes;
    tail[tail.size() - 1] ^= 1;
    CHECK(decode_error(tail).find("checksum mismatch") != std::string::npos);
}

TEST_CASE("set_dataset: stored pictures, remapped labels, packet augmentations per draw") {
    temp_dir t("train-test");
    std::vector<fpr_flow> flows{{"c/a.pcap", 0, 1, 2, 40, 300'000}, {"c/b.pcap", 0, 1, 3, 60, 200'000}};
    write_fpr(t / "tree/video/v.fpr", flows);
    train::build_options o;
    o.preset = "mini_flowpic";
    o.split = {{1, 0, 0}, 1};
    const auto set = train::build_dataset(t / "tree", o);
    REQUIRE(set.size() == 2);
    train::set_dataset d(set, set.indices(split::train), {4});
    CHECK(d.label(0) == 4);
    CHECK(d.sample_size() == 32 * 32);
    std::vector<float> x(1024), y(1024), z(1024);
    d.fill(0, x.data());
    CHECK(x == set.pictures[0].densify().data);
    d.augment(train::parse_augmentations("change_rtt,time_shift,packet_loss"));
    d.fill(0, y.data(), 17);
    d.fill(0, z.data(), 17);
    CHECK(y == z);
    int differ = 0;
    for (std::uint64_t draw = 0; draw < 8; ++draw) {
        d.fill(0, z.data(), draw);
        differ += z != x;
    }
    CHECK(differ >= 6);
    CHECK_THROWS_AS(train::parse_augmentations("rotate"), std::invalid_argument);
    CHECK(train::parse_augmentations("none").empty());
    CHECK(train::balanced_class_weights({10, 30, 0}) == std::vector<double>{2.0, 40.0 / 60.0, 0.0});
}

TEST_CASE("the confusion matrix picture: rows normalised, darker = larger share") {
    train::classification_report r;
    r.classes = 2;
    r.confusion = {3, 1, 0, 2};
    const auto img = train::confusion_image(r, 48);
    CHECK(img.width == 2 * 48 + 3);
    CHECK(img.height == img.width);
    auto px = [&](std::size_t row, std::size_t col) { return img.pixels[(1 + row * 49) * img.width + 1 + col * 49]; };
    CHECK(px(0, 0) == 64);   // 75 %
    CHECK(px(0, 1) == 191);  // 25 %
    CHECK(px(1, 0) == 255);
    CHECK(px(1, 1) == 0);
    CHECK(img.pixels[0] == 160);  // grid
}
