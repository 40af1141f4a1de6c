// Datasets from labelled captures (train/build_dataset.hpp with labelled_captures): the bundled
// sample capture's connections named by a label file written here. Each sample takes its
// connection's class in both directions (unidirectional preset) and per connection
// (mini_flowpic); flows without a row, unnamed or ignored are left out and counted (the expected
// counts come from a tree-only dataset of the same file, an independent reading); --map
// re-derives the classes; trees and labels mix; the split keeps every file on one side; the
// dataset file keeps the label map (version 2) and still reads version 1.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_files.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/labels/label_file.hpp"
#include "flowpic/labels/label_map.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/split.hpp"
#include "shared_data.hpp"

using namespace flowpic;
namespace fs = std::filesystem;
using train::split;

namespace {

using test::temp_dir;

const std::string sample_pcap() { return test::repo("data/sample/sample.pcap"); }

// The sample's connections (192.168.77.2 opens them all), by the client's port.
std::vector<flows::flow> connections() {
    std::vector<flows::flow> out;
    source::pcap_file<> src(sample_pcap());
    flows::flow_table<flows::bidirectional> t;
    flows::callback_sink sink{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) { out.push_back(f); }};
    t.consume(src, sink);
    return out;
}

// The client's port of a flow of either direction.
std::uint16_t client_port(const flow_key& k) { return k.src.str() == "192.168.77.2" ? k.sport : k.dport; }

// What the label file says of each connection: "-" for no row.
std::string class_of(std::uint16_t client) {
    switch (client) {
        case 40080: return "web";
        case 40004: return "voip";
        case 40007: return "chat";
        case 40443: return "ignore";
        case 40100: return "";
        case 40101: return "web";
        case 40102: return "web";
        case 40103: return "-";
        case 40104: return "chat";
        default: return "?";
    }
}

std::vector<labels::flow_label> sample_rows() {
    std::vector<labels::flow_label> rows;
    for (const auto& f : connections()) {
        const std::string c = class_of(client_port(f.key));
        REQUIRE(c != "?");
        if (c == "-") continue;
        rows.push_back({f.key, f.first_ns, "App" + std::to_string(f.key.sport), "Cat", c});
    }
    REQUIRE(rows.size() == 8);
    return rows;
}

struct expected {
    std::size_t labelled = 0, without_row = 0, unnamed = 0, ignored = 0;
    std::set<std::string> classes;
};

// From a tree-only dataset of the same file: its flows (with a block) by what the rows say.
expected expect(const temp_dir& t, const std::string& preset) {
    train::build_options o;
    o.preset = preset;
    const auto set = train::build_dataset(t / "tree", o);
    std::set<std::pair<flow_key, std::int64_t>> flows;
    expected e;
    std::set<flow_key> seen;
    for (const auto& s : set.samples) {
        if (!seen.insert(s.key).second) continue;  // one flow per key in this short capture
        const std::string c = class_of(client_port(s.key));
        if (c == "-") ++e.without_row;
        else if (c.empty()) ++e.unnamed;
        else if (c == "ignore") ++e.ignored;
        else {
            ++e.labelled;
            e.classes.insert(c);
        }
    }
    return e;
}

void copy_capture(const std::string& from, const fs::path& to) {
    fs::create_directories(to.parent_path());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

}  // namespace

TEST_CASE("labelled captures: both directions take their connection's row; left-out flows are counted") {
    temp_dir t("labelled-test");
    copy_capture(sample_pcap(), t / "tree/x/sample.pcap");
    copy_capture(sample_pcap(), t / "caps/sample.pcap");
    labels::write_label_file(t / "labels.csv", sample_rows());
    for (const std::string preset : {"shapira2019", "mini_flowpic"}) {
        CAPTURE(preset);
        const expected e = expect(t, preset);
        REQUIRE(e.labelled > 0);
        train::build_options o;
        o.preset = preset;
        o.labelled = train::labelled_captures{labels::label_index(labels::read_label_file(t / "labels.csv")),
                                              {t / "caps"}};
        train::build_report rep;
        const auto set = train::build_dataset(std::vector<std::string>{}, o, &rep);
        CHECK(rep.files == 1);
        CHECK(rep.flows_labelled == e.labelled);
        CHECK(rep.flows_without_row == e.without_row);
        CHECK(rep.flows_unnamed == e.unnamed);
        CHECK(rep.flows_ignored == e.ignored);
        CHECK(rep.flows_without_row + rep.flows_unnamed + rep.flows_ignored > 0);
        CHECK(set.classes == std::vector<std::string>(e.classes.begin(), e.classes.end()));
        REQUIRE(set.size() > 0);
        std::set<std::pair<std::uint16_t, bool>> directions;  // (client port, from the client)
        for (const auto& s : set.samples) {
            CHECK(set.classes.at(s.label) == class_of(client_port(s.key)));
            CHECK(set.captures.at(s.capture).name == t / "caps/sample.pcap");
            CHECK(set.captures[s.capture].label == s.label);
            directions.insert({client_port(s.key), s.key.src.str() == "192.168.77.2"});
        }
        if (preset == "shapira2019") {
            CHECK(directions.count({40080, true}) == 1);   // both directions of one connection
            CHECK(directions.count({40080, false}) == 1);
        } else {
            for (const auto& [port, forward] : directions) CHECK(forward);  // the connection, as its initiator sent it
        }
        // every row's class as the default map would not name it: a note, not a table
        CHECK(set.label_map.find("classes as written") != std::string::npos);
        // one file: every capture of it on one side
        std::set<split> parts;
        for (const auto& c : set.captures) parts.insert(c.part);
        CHECK(parts.size() == 1);
    }
}

TEST_CASE("labelled captures: --map re-derives the classes; the default map is recognised") {
    temp_dir t("labelled-test");
    copy_capture(sample_pcap(), t / "caps/sample.pcap");
    auto rows = sample_rows();
    for (auto& r : rows) {
        const auto client = client_port(r.key);
        r.application = client == 40004 ? "RTP" : client == 40007 ? "DNS" : client == 40443 ? "Unknown" : "HTTP";
        r.category = "Web";
        r.cls = "whatever";
    }
    const std::string map_text = "kind,name,class\ncategory,Web,browsing\napplication,RTP,voip\napplication,DNS,ignore\n";
    train::build_options o;
    o.preset = "shapira2019";
    o.labelled = train::labelled_captures{labels::label_index(rows), {t / "caps/sample.pcap"},
                                          labels::label_map::parse(map_text, "map.csv")};
    train::build_report rep;
    const auto set = train::build_dataset(std::vector<std::string>{}, o, &rep);
    CHECK(set.label_map == map_text);
    REQUIRE(set.size() > 0);
    for (const auto& s : set.samples) {
        const auto client = client_port(s.key);
        CHECK(set.classes.at(s.label) == (client == 40004 ? "voip" : "browsing"));
        CHECK(client != 40007);
        CHECK(client != 40443);
        CHECK(client != 40103);
    }
    CHECK(rep.flows_ignored > 0);   // DNS
    CHECK(rep.flows_unnamed > 0);   // Unknown

    // --where application=NAME matches nDPI's application of labelled flows
    o.where = {train::parse_where("application=RTP")};
    const auto rtp = train::build_dataset(std::vector<std::string>{}, o);
    REQUIRE(rtp.size() > 0);
    for (const auto& s : rtp.samples) CHECK(client_port(s.key) == 40004);
    o.where.clear();

    // without a map, rows named as the default map names them record the default map
    for (auto& r : rows) r.cls = labels::default_map().classify(r.application, r.category);
    o.labelled->rows = labels::label_index(rows);
    o.labelled->map.reset();
    const auto def = train::build_dataset(std::vector<std::string>{}, o);
    CHECK(def.label_map == labels::default_map_text);
    CHECK(def.classes == std::vector<std::string>{"browsing", "voip"});

    // network_stats mixes flows: no labels for it
    o.preset = "network_stats";
    CHECK_THROWS_AS(train::build_dataset(std::vector<std::string>{}, o), std::invalid_argument);
}

TEST_CASE("labelled captures and a tree together: the union of classes, each file on one side") {
    temp_dir t("labelled-test");
    copy_capture(sample_pcap(), t / "tree/alpha/sample.pcap");
    copy_capture(sample_pcap(), t / "tree/web/sample.pcap");
    copy_capture(sample_pcap(), t / "caps/one.pcap");
    copy_capture(sample_pcap(), t / "caps/sub/two.pcap");
    copy_capture(sample_pcap(), t / "caps/.hidden.pcap");
    std::ofstream(t / "caps/notes.txt") << "not a capture\n";
    train::build_options o;
    o.preset = "mini_flowpic";
    o.split = {{0.5, 0.25, 0.25}, 4};
    o.labelled = train::labelled_captures{labels::label_index(sample_rows()), {t / "caps"}};
    train::build_report rep;
    const auto set = train::build_dataset(std::vector<std::string>{t / "tree"}, o, &rep);
    CHECK(set.classes == std::vector<std::string>{"alpha", "chat", "voip", "web"});
    CHECK(rep.files == 4);
    REQUIRE(rep.skipped.size() == 1);
    CHECK(rep.skipped[0].find("notes.txt") != std::string::npos);
    std::map<std::string, std::set<split>> sides;
    std::map<std::string, std::set<std::string>> classes_of;
    for (const auto& s : set.samples) {
        const auto& name = set.captures[s.capture].name;
        sides[name].insert(s.part);
        classes_of[name].insert(set.classes[s.label]);
    }
    CHECK(sides.size() == 4);
    for (const auto& [name, parts] : sides) CHECK_MESSAGE(parts.size() == 1, name);
    CHECK(classes_of["alpha/sample.pcap"] == std::set<std::string>{"alpha"});  // relative to its tree
    CHECK(classes_of["web/sample.pcap"] == std::set<std::string>{"web"});
    CHECK(classes_of[t / "caps/one.pcap"] == std::set<std::string>{"chat", "voip", "web"});
    // the tree's part of the set is what the tree alone gives (labels after it)
    train::build_options tree_only;
    tree_only.preset = "mini_flowpic";
    const auto alone = train::build_dataset(t / "tree", tree_only);
    CHECK(alone.label_map.empty());
    CHECK(alone.classes == std::vector<std::string>{"alpha", "web"});
    // o.classes fixes the order and drops other classes
    o.classes = {"web", "voip"};
    const auto some = train::build_dataset(std::vector<std::string>{t / "tree"}, o, &rep);
    CHECK(some.classes == o.classes);
    for (const auto& s : some.samples) CHECK(s.label < 2);
    CHECK(rep.flows_unlisted > 0);
}

TEST_CASE("the split by file: files of several classes never straddle, every class in 3 files reaches each split") {
    // 40 files of mixed classes (a real capture holds several), 6 one-class files
    std::vector<train::capture_info> caps;
    std::vector<std::size_t> weights;
    auto add = [&](const std::string& name, std::uint32_t label, std::size_t w) {
        caps.push_back({name, label, -1, split::train});
        weights.push_back(w);
    };
    for (int f = 0; f < 40; ++f) {
        const std::string name = "cap/" + std::to_string(f) + ".pcap";
        add(name, 0, 50 + static_cast<std::size_t>(f % 7) * 10);   // video in every file
        if (f % 2 == 0) add(name, 1, 5);                           // browsing in half
        if (f % 10 == 3) add(name, 2, 2);                          // chat in 4 files
        if (f == 7 || f == 8) add(name, 3, 1);                     // voip in 2 files
    }
    for (int f = 0; f < 6; ++f) add("tree/" + std::to_string(f) + ".pcap", 4, 3);
    train::split_options o;
    o.seed = 5;
    auto a = caps;
    train::assign_splits(a, 5, o, weights);
    std::map<std::string, std::set<split>> sides;
    std::map<std::uint32_t, std::set<split>> reached;
    std::map<std::uint32_t, std::array<std::size_t, 3>> samples;
    for (std::size_t i = 0; i < a.size(); ++i) {
        sides[a[i].name].insert(a[i].part);
        reached[a[i].label].insert(a[i].part);
        samples[a[i].label][static_cast<std::size_t>(a[i].part)] += weights[i];
    }
    for (const auto& [name, parts] : sides) CHECK_MESSAGE(parts.size() == 1, name);
    for (std::uint32_t c : {0u, 1u, 2u, 4u}) CHECK_MESSAGE(reached[c].size() == 3, "class ", c);
    // the largest class lands near its fractions
    const double total = static_cast<double>(samples[0][0] + samples[0][1] + samples[0][2]);
    CHECK(static_cast<double>(samples[0][0]) / total == doctest::Approx(0.7).epsilon(0.08));
    CHECK(static_cast<double>(samples[0][2]) / total == doctest::Approx(0.15).epsilon(0.08));
    // one-class files split exactly as before: 6 files -> 4/1/1
    std::array<std::size_t, 3> tree_files{};
    for (const auto& c : a)
        if (c.label == 4) ++tree_files[static_cast<std::size_t>(c.part)];
    CHECK(tree_files == std::array<std::size_t, 3>{4, 1, 1});

    // deterministic, whatever the captures' order
    std::vector<std::size_t> idx(caps.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = idx.size() - 1 - i;
    std::vector<train::capture_info> b;
    std::vector<std::size_t> wb;
    for (std::size_t i : idx) {
        b.push_back(caps[i]);
        wb.push_back(weights[i]);
    }
    train::assign_splits(b, 5, o, wb);
    std::map<std::string, split> pa, pb;
    for (const auto& c : a) pa[c.name] = c.part;
    for (const auto& c : b) pb[c.name] = c.part;
    CHECK(pa == pb);
    auto again = caps;
    train::assign_splits(again, 5, {o.fractions, 6}, weights);
    std::map<std::string, split> pc;
    for (const auto& c : again) pc[c.name] = c.part;
    CHECK(pc != pa);
}

TEST_CASE("dataset file version 2 keeps the label map; version 1 files still read") {
    temp_dir t("labelled-test");
    copy_capture(sample_pcap(), t / "caps/sample.pcap");
    copy_capture(sample_pcap(), t / "tree/x/sample.pcap");
    auto rows = sample_rows();
    for (auto& r : rows) {
        r.application = client_port(r.key) == 40004 ? "RTP" : "HTTP";
        r.category = "Web";
    }
    train::build_options o;
    o.preset = "mini_flowpic";
    o.labelled = train::labelled_captures{labels::label_index(rows), {t / "caps"}, labels::default_map()};
    const auto set = train::build_dataset(std::vector<std::string>{}, o);
    REQUIRE(set.label_map == labels::default_map_text);
    const auto bytes = train::encode_dataset(set);
    CHECK(bytes[8] == 2);
    const auto back = train::decode_dataset(bytes.data(), bytes.size(), "v2.fpd");
    CHECK(back.label_map == set.label_map);
    CHECK(back.classes == set.classes);
    CHECK(back.size() == set.size());
    CHECK(train::encode_dataset(back) == bytes);
    // cut inside the label map: an error naming the offset
    for (std::size_t cut : {bytes.size() / 3, bytes.size() - 9}) {
        std::vector<std::uint8_t> b(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        try {
            (void)train::decode_dataset(b.data(), b.size(), "cut.fpd");
            FAIL("a cut file read");
        } catch (const format_error& e) {
            CHECK(std::string(e.what()).rfind("cut.fpd: byte offset ", 0) == 0);
        }
    }
    // a set without a label map (a tree's) is written as version 1, byte for byte as before
    train::build_options tree;
    tree.preset = "mini_flowpic";
    const auto v1 = train::encode_dataset(train::build_dataset(t / "tree", tree));
    CHECK(v1[8] == 1);
    CHECK(train::decode_dataset(v1.data(), v1.size(), "v1.fpd").label_map.empty());
}
