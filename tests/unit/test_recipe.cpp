// A model carries its recipe: every field through a model file and back, version-1 files, bad
// values named by offset, the calibration rule, and the library's loader applying it (windows,
// unknown) on the lab's sample capture for models of every preset, and any_classifier as the
// tool compiles it (tools/shared) against it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "flowpic/core/binary_io.hpp"
#include "classifiers.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/presets/any_classifier.hpp"
#include "flowpic/presets/model.hpp"
#include "flowpic/presets/recipe.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/train/calibration.hpp"
#include "shared_data.hpp"
#include "test_files.hpp"
#include "format_error_of.hpp"

using namespace flowpic;

namespace {

std::string temp_path(const std::string& name) {
    static const test::temp_dir dir("recipe");
    return (dir.path / name).string();
}

using small_net = presets::network_t<presets::mini_flowpic, 3>;
const std::vector<std::string> three{"a", "b", "c"};

std::string save(const std::string& name, const nn::model_fields& fields) {
    small_net net(nn::init_scheme::kaiming_uniform, 1);
    const auto path = temp_path(name);
    nn::save_model(path, net, "mini_flowpic", three, fields);
    return path;
}

// Where `text` starts in the file (the offset errors about that value name).
std::size_t offset_of(const std::string& path, const std::string& text) {
    const auto d = binary::read_file(path);
    const auto it = std::search(d.begin(), d.end(), text.begin(), text.end());
    REQUIRE(it != d.end());
    return static_cast<std::size_t>(it - d.begin());
}

const std::string sample = "data/lab/sample/lab-sample.pcap";

// The library's rows: label (or unknown) per result.
std::vector<std::string> labels_of(const presets::model& m, const std::string& capture) {
    std::vector<std::string> out;
    presets::visit_classifier<source::pcap_file<>>(m, [&](auto& classifier) {
        source::pcap_file<> src(capture);
        classifier.run(src, [&](const classification& r) {
            out.push_back(r.unknown ? "unknown" : std::to_string(r.label));
        });
    });
    return out;
}

}  // namespace

TEST_CASE("recipe: every field through a version-2 model file and back") {
    presets::recipe r;
    r.window = blocks::window_spec{blocks::seconds(15), blocks::seconds(5), 10, 7, true, blocks::end_rule::authors, false};
    r.flows = presets::grouping::per_connection;
    r.label_map = "ip,label\n10.0.0.1,\"chat, voice\"\n";
    r.min_score = {0.5f, 0.123456789f, 0.0f};
    auto fields = presets::to_fields(r);
    fields.emplace_back("x.later", "kept");  // a key of a later flowpic
    const auto path = save("all_fields.fpm", fields);
    const auto m = presets::read_model(path);
    CHECK(m.info.version == 2);
    CHECK(m.info.classes == three);
    CHECK(m.recipe == r);
    REQUIRE(m.info.field("x.later") != nullptr);
    CHECK(m.info.field("x.later")->value == "kept");
    CHECK(presets::what_is_missing(m.info, m.recipe).empty());
    // the weights load as before
    small_net a(nn::init_scheme::kaiming_uniform, 1), b;
    presets::visit_model(m, [&](auto, auto& net) {
        CHECK(std::equal(a.params().begin(), a.params().end(), net.params().begin()));
    });
    nn::load_model(path, b);
    CHECK(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
    // no recipe at all: nothing recorded, the preset's windows applied
    const auto bare = presets::read_model(save("bare.fpm", {}));
    CHECK(!bare.recipe.window);
    CHECK(presets::what_is_missing(bare.info, bare.recipe).find("windows, grouping") != std::string::npos);
}

TEST_CASE("recipe: a version-1 model file still loads, with nothing recorded") {
    // the version-1 layout: no recipe field count
    small_net net(nn::init_scheme::kaiming_uniform, 2);
    const auto v2 = save("for_v1.fpm", {});
    nn::save_model(v2, net, "mini_flowpic", three);
    auto d = binary::read_file(v2);
    const std::size_t at = 16 + 4 + 12 + 4 + small_net::signature().size() + 4 + 3 * 5;
    std::vector<std::uint8_t> body(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(at));
    CHECK(std::vector<std::uint8_t>(d.begin() + static_cast<std::ptrdiff_t>(at), d.begin() + static_cast<std::ptrdiff_t>(at) + 4) ==
          std::vector<std::uint8_t>{0, 0, 0, 0});
    body.insert(body.end(), d.begin() + static_cast<std::ptrdiff_t>(at) + 4, d.end() - 8);
    body[8] = 1;
    binary::writer w("model file");
    w.bytes(body.data(), body.size());
    w.checksum();
    const auto v1 = temp_path("v1.fpm");
    binary::write_file(v1, w.data());

    const auto m = presets::read_model(v1);
    CHECK(m.info.version == 1);
    CHECK(m.info.recipe.empty());
    CHECK(m.recipe == presets::recipe{});
    const auto note = presets::what_is_missing(m.info, m.recipe);
    CHECK(note.find("version-1") != std::string::npos);
    for (const char* what : {"windows", "grouping", "label map", "score thresholds"}) CHECK(note.find(what) != std::string::npos);
    small_net b;
    nn::load_model(v1, b);
    CHECK(std::equal(net.params().begin(), net.params().end(), b.params().begin()));
    using P = presets::mini_flowpic;
    CHECK(*presets::pipeline_options<P, preset_pipeline<P, small_net, source::any_source>>(m.recipe).window == P::window);
}

TEST_CASE("recipe: a bad value is a format error at its offset") {
    struct bad_case {
        const char* key;
        const char* value;
        const char* says;
    };
    for (const auto& c : {bad_case{"window.min_packets", "ten", "not an integer"},
                          bad_case{"window.length_ns", "0", "below 1"},
                          bad_case{"window.ends", "sometimes", "complete, authors or any"},
                          bad_case{"window.first_only", "yes", "0 or 1"},
                          bad_case{"grouping", "per_packet", "per_direction, per_connection or all_flows"},
                          bad_case{"grouping", "per_direction", "preset mini_flowpic groups per_connection"},
                          bad_case{"min_score", "0.5,0.5", "2 thresholds for 3 classes"},
                          bad_case{"min_score", "0.5,1.5,0", "outside [0, 1]"},
                          bad_case{"min_score", "0.5,,0", "not a list of numbers"}}) {
        const auto path = save("bad_value.fpm", {{"grouping", "per_connection"}, {c.key, c.value}});
        const auto msg = test::format_error_of([&] { (void)presets::read_model(path); });
        INFO(c.key << " = " << c.value << ": " << msg);
        // the value's offset: its 4-byte length, then the text
        const std::string value = c.value;
        std::size_t at = offset_of(path, std::string(c.key) + std::string(1, char(value.size())));
        at += std::string(c.key).size();
        CHECK(msg.find("bad_value.fpm") != std::string::npos);
        CHECK(msg.find("byte offset " + std::to_string(at) + ":") != std::string::npos);
        CHECK(msg.find(c.says) != std::string::npos);
    }
}

TEST_CASE("calibration: per class, the score a fraction of its correct validation samples fall below") {
    // 3 classes; class 0: 20 correct samples scoring 0.50, 0.52, ... 0.88, and 2 wrong ones;
    // class 1: 3 correct; class 2: none correct
    std::vector<float> probs;
    std::vector<std::int32_t> labels;
    auto add = [&](std::int32_t y, std::size_t best, float p) {
        std::vector<float> row(3, (1.0f - p) / 2);
        row[best] = p;
        probs.insert(probs.end(), row.begin(), row.end());
        labels.push_back(y);
    };
    for (int i = 19; i >= 0; --i) add(0, 0, 0.50f + 0.02f * float(i));
    add(0, 1, 0.9f);
    add(0, 2, 0.9f);
    add(1, 1, 0.7f);
    add(1, 1, 0.6f);
    add(1, 1, 0.95f);
    add(2, 0, 0.99f);  // wrong: raises no threshold
    const auto t = train::calibrate_min_score(probs, labels, 3, 0.05);
    REQUIRE(t.size() == 3);
    CHECK(t[0] == doctest::Approx(0.52f));  // floor(0.05 x 20) = 1: one sample (0.50) falls below
    CHECK(t[1] == doctest::Approx(0.6f));   // floor(0.05 x 3) = 0: the lowest, nothing below it
    CHECK(t[2] == 0.0f);
    const auto q = train::calibrate_min_score(probs, labels, 3, 0.25);
    CHECK(q[0] == doctest::Approx(0.60f));  // 5 of 20 below
    CHECK(train::calibrate_min_score(probs, labels, 3, 0.0) == std::vector<float>(3, 0.0f));
    // the effect on the same samples: one of class 0 below 0.52
    const auto e = train::effect_of(probs, labels, 3, t);
    CHECK(e.unknown == 1);
    CHECK(e.unknown_by_class == std::vector<std::size_t>{1, 0, 0});
    CHECK(e.kept_correct == 19 + 3);
    // one sigmoid output counts as two classes
    const std::vector<float> sig{0.9f, 0.8f, 0.2f, 0.4f};
    const std::vector<std::int32_t> y{1, 1, 0, 0};
    const auto s = train::calibrate_min_score(sig, y, 1, 0.5);
    CHECK(s[0] == doctest::Approx(0.8f));
    CHECK(s[1] == doctest::Approx(0.9f));
    // saturated scores: thresholds stop at max_min_score, or every unsaturated result is unknown
    std::vector<float> sat;
    std::vector<std::int32_t> sat_y;
    for (int i = 0; i < 40; ++i) {
        const float p = i == 0 ? 0.97f : i == 1 ? 0.999f : 1.0f;
        sat.insert(sat.end(), {p, 1.0f - p});
        sat_y.push_back(0);
    }
    sat.insert(sat.end(), {0.0f, 1.0f});
    sat_y.push_back(1);
    const auto u = train::calibrate_min_score(sat, sat_y, 2, 0.05);  // floor(0.05 x 40) = 2: a 1
    CHECK(u[0] == train::max_min_score);
    CHECK(u[1] == train::max_min_score);  // its one correct score is 1
}

TEST_CASE("the library's loader applies the bundled model's recipe: its windows, and unknown") {
    auto m = presets::read_model(test::repo("data/models/default.fpm"));
    REQUIRE(m.recipe.window);
    CHECK(*m.recipe.window == presets::every_window(blocks::window_spec{blocks::seconds(15), 0, 10, 0, false,
                                                                        blocks::end_rule::any, true}));
    CHECK(m.recipe.flows == presets::grouping::per_connection);
    REQUIRE(m.recipe.min_score.size() == 5);  // calibrated on its validation split
    for (float s : m.recipe.min_score) CHECK((s > 0.0f && s < 1.0f));
    const auto rows = labels_of(m, test::repo(sample));
    CHECK(rows.size() == 77);  // every complete 15 s window with >= 10 packets (scripts/main.sh)
    m.recipe.min_score.clear();
    const auto forced = labels_of(m, test::repo(sample));
    CHECK(forced.size() == 77);
    CHECK(std::count(forced.begin(), forced.end(), "unknown") == 0);
    for (std::size_t i = 0; i < rows.size(); ++i)  // a threshold only turns labels into unknown
        if (rows[i] != "unknown") CHECK(rows[i] == forced[i]);
    m.recipe.min_score.assign(5, 1.0f);
    const auto none = labels_of(m, test::repo(sample));
    CHECK(none.size() == 77);
    CHECK(std::count(none.begin(), none.end(), "unknown") == 77);
}

TEST_CASE("models of every preset classify end to end: mini_flowpic1500, network_stats") {
    for (const std::string preset : {"mini_flowpic1500", "network_stats"}) {
        const auto path = temp_path(preset + ".fpm");
        const std::vector<std::string> names{"other", "video"};
        presets::visit_network(preset, 2, [&](auto p, auto& net) {
            using P = decltype(p);
            net.init(P::init, 1);
            presets::recipe r;
            r.window = P::window;
            r.flows = presets::grouping_of<typename P::flow_key>();
            nn::save_model(path, net, preset, names, presets::to_fields(r));
        });
        const auto m = presets::read_model(path);
        std::size_t results = 0;
        presets::visit_classifier<source::pcap_file<>>(m, [&](auto& classifier) {
            source::pcap_file<> src(test::repo(sample));
            classifier.run(src, [&](const classification& r) {
                ++results;
                REQUIRE(r.probabilities.size() == 2);
                CHECK(r.label < 2);
                CHECK(r.score == r.probabilities[r.label]);
                CHECK(r.probabilities[0] + r.probabilities[1] == doctest::Approx(1.0));
                if (preset == "network_stats") CHECK(r.key == flow_key{});
            });
        });
        INFO(preset);
        CHECK(results > 0);
    }
}

namespace {

struct row {
    std::string key;
    std::int64_t start = 0;
    std::uint64_t index = 0, packets = 0;
    std::uint32_t blocks = 0;
    std::size_t label = 0;
    float score = 0;
    bool unknown = false;
    std::vector<float> probabilities;
    bool operator==(const row&) const = default;
};

row row_of(const classification& r) {
    return {r.key.src.str() + ">" + r.key.dst.str() + ":" + std::to_string(r.key.sport) + ">" + std::to_string(r.key.dport),
            r.block_start_ns, r.block_index, r.packets, r.blocks, r.label, r.score, r.unknown,
            std::vector<float>(r.probabilities.begin(), r.probabilities.end())};
}

std::vector<row> rows_of(presets::any_classifier& c, const std::string& capture) {
    std::vector<row> out;
    source::pcap_file<> src(capture);
    source::any_source any(src);
    c.run(any, [&](const classification& r) { out.push_back(row_of(r)); });
    return out;
}

}  // namespace

TEST_CASE("any_classifier (compiled once for the tool): visit_classifier's rows under every setting and rule; "
          "a copy runs on its own network") {
    presets::recipe recipe;
    recipe.window = presets::mini_flowpic::window;
    recipe.min_score = {0.2f, 0.5f, 0.3f};
    const auto m = presets::read_model(save("any_classifier.fpm", presets::to_fields(recipe)));
    const auto capture = test::repo(sample);
    presets::classifier_settings s;
    s.batch = 5;
    s.all_windows = true;
    s.min_packets = 3;
    s.min_score = std::vector<float>{0.35f, 0.35f, 0.35f};

    // per block: visit_classifier's pipeline (over another source type) with the same options: the same bits
    std::vector<row> want;
    presets::visit_classifier<source::pcap_file<>>(
        m,
        [&](auto& classifier) {
            source::pcap_file<> src(capture);
            classifier.run(src, [&](const classification& r) { want.push_back(row_of(r)); });
        },
        [&](auto& o) {
            o.batch = 5;
            o.window = presets::every_window(*o.window);
            o.window->min_packets = 3;
            o.min_score = {0.35f, 0.35f, 0.35f};
        });
    REQUIRE(want.size() > 20);
    auto c = programs::make_classifier(m, presets::decision_rule::per_block, s);
    CHECK(c.batch() == 5);
    CHECK(rows_of(c, capture) == want);
    CHECK(std::count_if(want.begin(), want.end(), [](const row& r) { return r.unknown; }) > 0);
    {
        auto copy = c.copy();
        c = {};  // the copy holds its own network
        CHECK(rows_of(copy, capture) == want);
    }

    // the recipe's settings when none are given: fewer windows, the recipe's thresholds
    auto plain = programs::make_classifier(m, presets::decision_rule::per_block, {});
    CHECK(rows_of(plain, capture).size() < want.size());
    presets::classifier_settings live;
    live.live = true;
    CHECK(programs::make_classifier(m, presets::decision_rule::per_block, live).batch() == 1);

    // per flow: each flow's blocks above, voted (ties: the smaller class) or averaged
    std::map<std::string, std::vector<const row*>> flows;
    for (const auto& r : want) flows[r.key].push_back(&r);
    for (const auto rule : {presets::decision_rule::majority_vote, presets::decision_rule::mean_probability}) {
        auto f = programs::make_classifier(m, rule, s);
        const auto got = rows_of(f, capture);
        INFO(int(rule));
        CHECK(got.size() == flows.size());
        for (const auto& g : got) {
            REQUIRE(flows.count(g.key) == 1);
            const auto& blocks = flows[g.key];
            CHECK(g.blocks == blocks.size());
            CHECK(g.start == blocks.front()->start);
            std::vector<double> votes(3, 0.0), sums(3, 0.0);
            std::uint64_t packets = 0;
            for (const row* b : blocks) {
                const auto best = std::max_element(b->probabilities.begin(), b->probabilities.end()) - b->probabilities.begin();
                votes[static_cast<std::size_t>(best)] += 1;
                for (std::size_t k = 0; k < 3; ++k) sums[k] += b->probabilities[k];
                packets += b->packets;
            }
            CHECK(g.packets == packets);
            const auto& by = rule == presets::decision_rule::majority_vote ? votes : sums;
            const auto label = static_cast<std::size_t>(std::max_element(by.begin(), by.end()) - by.begin());
            CHECK(g.label == label);
            CHECK(g.score == doctest::Approx(by[label] / double(blocks.size())).epsilon(1e-6));
            for (std::size_t k = 0; k < 3; ++k)
                CHECK(g.probabilities[k] == doctest::Approx(sums[k] / double(blocks.size())).epsilon(1e-6));
            CHECK(g.unknown == (g.probabilities[label] < 0.35f));
        }
    }
    CHECK_THROWS_AS((void)presets::decision_rule_of("vote"), std::invalid_argument);
    CHECK(presets::decision_rule_of("mean") == presets::decision_rule::mean_probability);
}
