// A short training run on real traffic: the lab's committed captures (data/lab/dataset, in the
// repository), five categories, plain and VPN, as mini-FlowPics of 15 s blocks. The split is by
// lab capture, so no capture lends blocks to both sides; the network must beat chance (1/5) twice
// over on captures it never saw, within seconds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <string>
#include <vector>

#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/builtin.hpp"
#include "flowpic/source/flow_records.hpp"
#include "flowpic/train/dataset.hpp"
#include "flowpic/train/trainer.hpp"
#include "shared_data.hpp"

using namespace flowpic;

namespace {

struct lab_pictures {
    std::vector<float> train_x, test_x;
    std::vector<std::int32_t> train_y, test_y;
};

// FNV-1a: a split that is the same with every standard library.
std::uint32_t fnv1a(std::string_view s) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : s) h = (h ^ c) * 16777619u;
    return h;
}

// About a third of the captures, chosen by a hash of their names, are held out.
lab_pictures load_lab() {
    using P = presets::mini_flowpic::picture;
    picture::maker<P> maker;
    lab_pictures out;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(test::repo("data/lab/dataset")))
        if (e.path().extension() == ".fpr") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 10);
    for (const auto& path : files) {
        source::flow_records records(path.string());
        blocks::windowed_table<flows::bidirectional> table({}, blocks::specs::counted15);
        flows::callback_sink sink{[&](const blocks::block& b) {
                                      const auto& f = records.flow(b.owner->key.session - 1);
                                      const auto& pic = maker.dense(b);
                                      const bool held_out = fnv1a(f.capture) % 3 == 0;
                                      auto& x = held_out ? out.test_x : out.train_x;
                                      auto& y = held_out ? out.test_y : out.train_y;
                                      x.insert(x.end(), pic.data.begin(), pic.data.end());
                                      y.push_back(static_cast<std::int32_t>(f.label));
                                  },
                                  flows::ignore{}};
        table.consume(records, sink);
    }
    return out;
}

}  // namespace

TEST_CASE("a short training run on the lab's real captures learns the five categories") {
    const auto lab = load_lab();
    const std::size_t n_train = lab.train_y.size(), n_test = lab.test_y.size();
    INFO(n_train << " training and " << n_test << " held-out blocks");
    REQUIRE(n_train > 500);
    REQUIRE(n_test > 100);
    for (std::int32_t c = 0; c < 5; ++c) {  // every category on both sides
        INFO("category " << c);
        CHECK(std::count(lab.train_y.begin(), lab.train_y.end(), c) > 0);
        CHECK(std::count(lab.test_y.begin(), lab.test_y.end(), c) > 0);
    }
    const train::dense_dataset train_set(32 * 32, lab.train_x, lab.train_y), test_set(32 * 32, lab.test_x, lab.test_y);

    nn::networks::mini_flowpic<5> net(nn::init_scheme::kaiming_uniform, 1);
    const nn::categorical_crossentropy loss{};
    const auto [before, m0] = train::evaluate(net, test_set, loss);
    nn::adam opt;
    train::fit_options o;
    o.epochs = 40;
    o.batch = 64;
    o.seed = 3;
    const auto r = train::fit(net, train_set, static_cast<const train::dense_dataset*>(nullptr), loss, opt, o);
    const auto [after, m1] = train::evaluate(net, test_set, loss);
    INFO("held-out loss " << before << " -> " << after << ", accuracy " << m0.accuracy << " -> " << m1.accuracy);
    CHECK(r.history.back().train_loss < 0.5 * r.history.front().train_loss);
    CHECK(after < before);
    // The untrained network already scores 0.50 (it calls every block the largest class, 347 of the
    // 692 held-out blocks), so learning shows as a gain over it. Every lab session has
    // a WAN line of its own (docs/lab.md), so held-out captures differ from the training ones more
    // than a short run without augmentation can bridge (0.50 -> 0.59 on the committed dataset).
    CHECK(m1.accuracy > m0.accuracy + 0.05);
}
