// The presets module (flowpic/presets/): the built-in list and what each preset pins
// (reference.md A.1-A.3), lookup by name and alias, class-count rules, and a preset defined in
// this file alone, added to the list, running through a dataset file, training and the
// classification pipeline, the pipeline's probabilities equal to the stages run by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include "test_files.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/flows/sink.hpp"
#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/pipeline.hpp"
#include "flowpic/source/any_source.hpp"
#include "flowpic/source/flow_records.hpp"
#include "flowpic/train/build_dataset.hpp"
#include "flowpic/train/dataset_file.hpp"
#include "flowpic/train/file_blocks.hpp"
#include "flowpic/train/set_dataset.hpp"
#include "flowpic/train/trainer.hpp"
#include "shared_data.hpp"

using namespace flowpic;
namespace fs = std::filesystem;
namespace pic = flowpic::picture;

namespace {

// The whole definition of a preset the library has never seen.
struct tiny16 {
    static constexpr std::string_view name = "tiny16";
    static constexpr blocks::window_spec window{blocks::seconds(15), 0, 5, 0, false, blocks::end_rule::complete, false};
    using flow_key = flows::bidirectional;
    using picture = pic::histogram<pic::resolution<16, 16>, pic::size_axis::scaled<1500, pic::overflow::clip>,
                                   pic::time_axis::fixed_window<0, pic::from::window_start, pic::clock::seconds,
                                                                pic::window_end::open>,
                                   pic::counts::clip255<float>>;
    template <std::size_t Classes>
    using network = nn::sequential<nn::input<1, 16, 16>, nn::conv2d<4, 3>, nn::relu, nn::max_pool2d<2>, nn::flatten,
                                   nn::dense<Classes>, nn::softmax>;
    static constexpr nn::init_scheme init = nn::init_scheme::kaiming_uniform;
    static constexpr std::size_t default_batch = 16;
    static constexpr presets::class_rule classes{2, 3};
};
using mine = presets::append<presets::builtin, tiny16>;

template <class P>
std::string name_of(P) {
    return std::string(P::name);
}

using test::temp_dir;

}  // namespace

TEST_CASE("presets: the built-in list, names, aliases and unknown names") {
    CHECK(presets::names() ==
          std::vector<std::string>{"shapira2019", "mini_flowpic", "mini_flowpic64", "mini_flowpic1500", "network_stats"});
    CHECK(presets::names_list() == "shapira2019, mini_flowpic, mini_flowpic64, mini_flowpic1500, network_stats");
    for (const auto& n : presets::names()) CHECK(presets::visit(n, [](auto p) { return name_of(p); }) == n);
    CHECK(presets::visit("mini_flowpic32", [](auto p) { return name_of(p); }) == "mini_flowpic");
    CHECK_THROWS_AS(presets::visit("tiny16", [](auto) {}), std::invalid_argument);
    CHECK_THROWS_AS(presets::visit("", [](auto) {}), std::invalid_argument);

    CHECK(presets::names<mine>().size() == 6);
    CHECK(presets::names<mine>().back() == "tiny16");
    CHECK(presets::visit<mine>("tiny16", [](auto p) { return name_of(p); }) == "tiny16");
    CHECK(presets::visit<mine>("network_stats", [](auto p) { return name_of(p); }) == "network_stats");
    CHECK(presets::contains<mine>("tiny16"));
    CHECK_FALSE(presets::contains<presets::builtin>("tiny16"));
}

TEST_CASE("presets: class-count rules pick the network") {
    CHECK(presets::class_count_problem<presets::shapira2019>(2).empty());
    CHECK(presets::class_count_problem<presets::shapira2019>(10).empty());
    CHECK(presets::class_count_problem<presets::shapira2019>(1) ==
          "network shapira2019 is built for 2 to 10 classes, not 1");
    CHECK(presets::class_count_problem<presets::network_stats>(1).empty());
    CHECK(presets::class_count_problem<presets::network_stats>(2).empty());
    CHECK_FALSE(presets::class_count_problem<presets::network_stats>(3).empty());
    CHECK_THROWS_AS(presets::visit_network<presets::mini_flowpic>(11, [](auto&) {}), std::invalid_argument);

    for (std::size_t c = 2; c <= 10; ++c)
        presets::visit_network<presets::mini_flowpic64>(c, [&](auto& net) {
            using N = std::remove_reference_t<decltype(net)>;
            CHECK(N::output_shape.size() == c);
            CHECK(N::input_shape.h == 64);
        });
    std::size_t outputs = 0;
    presets::visit_network("network_stats", 2, [&](auto, auto& net) {
        outputs = std::remove_reference_t<decltype(net)>::output_shape.size();
    });
    CHECK(outputs == 1);
}

TEST_CASE("presets: each built-in preset holds what reference.md pins") {
    using S = presets::shapira2019;
    CHECK(S::window == blocks::specs::shapira2019);
    CHECK(std::is_same_v<S::flow_key, flows::unidirectional>);
    CHECK(std::is_same_v<S::picture::value_type, std::uint16_t>);
    CHECK(S::picture::height == 1500);
    CHECK(presets::network_t<S, 5>::param_count == 309'419);
    CHECK(S::init == nn::init_scheme::glorot_uniform);
    CHECK(S::default_batch == 128);

    using M = presets::mini_flowpic;
    CHECK(M::window == blocks::specs::mini_flowpic);
    CHECK(std::is_same_v<M::flow_key, flows::bidirectional>);
    CHECK(M::picture::height == 32);
    CHECK(std::is_same_v<M::picture::value_type, float>);
    CHECK(presets::network_t<M, 5>::param_count == 61'281);
    CHECK(M::init == nn::init_scheme::kaiming_uniform);
    CHECK(M::default_batch == 32);
    CHECK(presets::mini_flowpic64::picture::width == 64);
    CHECK(std::is_same_v<presets::network_t<presets::mini_flowpic1500, 5>, nn::networks::shapira2019<5>>);
    CHECK(std::is_same_v<presets::mini_flowpic1500::picture::value_type, float>);

    using N = presets::network_stats;
    CHECK(N::window == blocks::specs::network_stats);
    CHECK(std::is_same_v<N::flow_key, flows::all_flows>);
    CHECK(N::picture::channel_count == 2);
    CHECK(presets::network_t<N, 2>::output_shape.size() == 1);
    CHECK(presets::network_t<N, 2>::input_shape.c == 2);

    // the dataset files' geometry comes from the same types
    const auto g = train::geometry_of("network_stats");
    CHECK(g.channels == 2);
    CHECK(g.value_type == 2);
    CHECK(train::geometry_of("shapira2019").value_type == 1);
    CHECK(train::geometry_of<mine>("tiny16").height == 16);
    CHECK_THROWS_AS(train::geometry_of("tiny16"), std::invalid_argument);
}

TEST_CASE("presets: a preset defined in a test runs through dataset, train and classify") {
    temp_dir tmp("presets-test");
    const fs::path root = tmp.path / "tree";
    for (const char* cls : {"video", "voip"})
        for (const char* kind : {"plain", "vpn"}) {
            const std::string file = std::string(cls) + "-" + kind + "-0.fpr";
            fs::create_directories(root / cls);
            fs::copy_file(test::repo("data/lab/dataset/" + std::string(cls) + "/" + file), root / cls / file);
        }

    // dataset: the blocks of every file, as tiny16 cuts and paints them
    train::build_options bo;
    bo.preset = "tiny16";
    bo.split.fractions = {1, 0, 0};
    CHECK_THROWS_AS(train::build_dataset(root.string(), bo), std::invalid_argument);  // not a built-in
    const train::picture_set set = train::build_dataset<mine>(root.string(), bo);
    REQUIRE(set.size() > 20);
    CHECK(set.preset == "tiny16");
    CHECK(set.classes == std::vector<std::string>{"video", "voip"});
    CHECK(set.pictures.height() == 16);
    std::size_t blocks_by_hand = 0;
    for (const char* cls : {"video", "voip"})
        for (const auto& f : fs::directory_iterator(root / cls))
            train::for_each_block<tiny16>(f.path().string(), [&](const blocks::block& b, const train::block_origin&) {
                CHECK(b.packets.size() >= 5);
                ++blocks_by_hand;
            });
    CHECK(set.size() == blocks_by_hand);

    const std::string fpd = (tmp.path / "tiny.fpd").string();
    train::write_dataset<mine>(fpd, set);
    const auto back = train::read_dataset<mine>(fpd);
    CHECK(back.size() == set.size());
    CHECK(back.preset == "tiny16");
    CHECK_THROWS_AS(train::read_dataset(fpd), format_error);  // the built-in list does not know it

    // train: tiny16's initialisation and batch; the loss falls
    const std::string model = (tmp.path / "tiny.fpm").string();
    // the name read back finds tiny16 in the list; its network is then a type like any other
    REQUIRE(presets::visit<mine>(back.preset, [](auto p) { return name_of(p); }) == "tiny16");
    presets::visit_network<tiny16>(back.classes.size(), [&](auto& net) {
        using P = tiny16;
        net.init(P::init, 3);
        const train::set_dataset data(back, back.indices(train::split::train));
        train::fit_options fo;
        fo.epochs = 6;
        fo.batch = P::default_batch;
        fo.seed = 4;
        nn::adam adam;
        const auto r = train::fit(net, data, static_cast<const train::set_dataset*>(nullptr),
                                  nn::categorical_crossentropy{}, adam, fo);
        REQUIRE(r.history.size() == 6);
        CHECK(r.history.back().train_loss < r.history.front().train_loss);
        nn::save_model(model, net, std::string(P::name), back.classes);
    });

    // classify: the model file names its preset; the pipeline equals the stages run by hand
    const nn::model_info info = nn::read_model_info(model);
    CHECK(info.preset == "tiny16");
    const std::string capture = test::repo("data/lab/dataset/voip/voip-plain-0.fpr");
    REQUIRE(presets::contains<mine>(info.preset));
    presets::visit_network<tiny16>(info.classes.size(), [&](auto& net) {
        using P = tiny16;
        using Net = std::remove_reference_t<decltype(net)>;
        nn::load_model(model, net);
        std::map<std::pair<flow_key, std::int64_t>, std::vector<float>> by_hand;
        pic::maker<typename P::picture, backend::scalar> maker;
        // the pipeline streams the records flow after flow, each record one flow (as `flowpic
        // classify` reads a .fpr; `dataset` joins a connection's records: train/file_blocks.hpp)
        source::flow_records hand_records(capture);
        blocks::windowed_table<typename P::flow_key> table({}, P::window);
        flows::callback_sink sink{[&](const blocks::block& b) {
                                      const auto& p = maker.dense(b);
                                      std::vector<float> x(p.data.begin(), p.data.end()), y(2);
                                      net.predict(x.data(), 1, y.data(), backend::scalar{});
                                      by_hand[{b.owner->key, b.window_start_ns}] = y;
                                  },
                                  flows::ignore{}};
        table.consume(hand_records, sink);
        REQUIRE(by_hand.size() > 5);

        source::flow_records records(capture);
        source::any_source src(records);
        std::size_t results = 0;
        preset_pipeline<P, Net, source::any_source, backend::scalar>(net).run(src, [&](const classification& c) {
            ++results;
            const auto it = by_hand.find({c.key, c.block_start_ns});
            REQUIRE(it != by_hand.end());
            REQUIRE(c.probabilities.size() == 2);
            CHECK(c.probabilities[0] == it->second[0]);
            CHECK(c.probabilities[1] == it->second[1]);
        });
        CHECK(results == by_hand.size());
    });
}
