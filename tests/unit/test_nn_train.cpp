// Training: optimiser steps against PyTorch (fixtures of scripts/make_nn_fixtures.py, with class
// weights), a short run on a small FlowPic-like task that must learn, determinism for a seed and
// across thread counts, early stopping that keeps the best weights, and the metrics on a case
// computed by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <oneapi/tbb/global_control.h>

#include "flowpic/core/npy.hpp"
#include "flowpic/nn/optimizer.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/train/dataset.hpp"
#include "flowpic/train/metrics.hpp"
#include "flowpic/train/trainer.hpp"
#include "shared_data.hpp"

using namespace flowpic;
using namespace flowpic::nn;

namespace {

// tcbench's LeNet without dropout: the fixtures' network (dropout masks differ from PyTorch's)
using lenet = sequential<input<1, 32, 32>, conv2d<6, 5>, relu, max_pool2d<2>, conv2d<16, 5>, relu, max_pool2d<2>,
                         flatten, dense<120>, relu, dense<84>, relu, dense<4>, softmax>;

flowpic::npy::array<float> fixture(const std::string& c, const std::string& name) {
    return flowpic::npy::load_as<float>(test::repo("tests/fixtures/nn/" + c + "/" + name + ".npy"));
}

template <class Opt>
void optimiser_parity(const std::string& c, Opt opt) {
    lenet net(init_scheme::kaiming_uniform, static_cast<std::uint64_t>(fixture(c, "seed").data[0]));
    const std::vector<float> init(net.params().begin(), net.params().end());
    const auto x = fixture(c, "input").data;
    const auto lf = fixture(c, "labels").data;
    const std::vector<std::int32_t> labels(lf.begin(), lf.end());
    const auto wf = fixture(c, "class_weights").data;
    const std::vector<double> weights(wf.begin(), wf.end());
    const auto losses = fixture(c, "losses").data;
    for (std::size_t step = 0; step < losses.size(); ++step) {
        const double l = net.gradient(x.data(), labels.size(), targets{labels, weights}, categorical_crossentropy{},
                                      run_context{}, flowpic::backend::tbb{});
        INFO(c << " step " << step << ": loss " << l << " torch " << losses[step]);
        CHECK(std::abs(l - losses[step]) <= 1e-4 * std::abs(losses[step]));
        opt.step(net.params(), std::span<const float>(net.grads()));
    }
    // compare the updates (parameters minus their initial values), tensor by tensor in max norm
    const std::string dir = test::repo("tests/fixtures/nn/" + c + "/");
    for (const auto& t : lenet::tensors()) {
        const std::string name = std::to_string(t.group) + "." + t.info.role;
        std::vector<std::size_t> idx;
        std::vector<float> theirs;
        if (std::FILE* f = std::fopen((dir + "params_" + name + ".npy").c_str(), "rb")) {
            std::fclose(f);
            theirs = fixture(c, "params_" + name).data;
            for (std::size_t i = 0; i < theirs.size(); ++i) idx.push_back(i);
        } else {
            for (float i : fixture(c, "params_" + name + ".idx").data) idx.push_back(static_cast<std::size_t>(i));
            theirs = fixture(c, "params_" + name + ".val").data;
        }
        double scale = 0, err = 0;
        for (std::size_t k = 0; k < idx.size(); ++k) {
            const std::size_t i = t.offset + idx[k];
            const double ours = net.params()[i] - init[i], torch = double(theirs[k]) - init[i];
            scale = std::max(scale, std::abs(torch));
            err = std::max(err, std::abs(ours - torch));
        }
        INFO(c << " " << name << ": update error " << err << " of max update " << scale);
        CHECK(scale > 0);
        CHECK(err <= 1e-3 * scale);
    }
}

// FlowPic-like 32x32 pictures of three synthetic traffic kinds (time on columns, size on rows):
//   0 constant-rate small packets (VoIP-like), 1 bursts of full-size packets with small
//   acknowledgements (video-like), 2 a few mid-size packets at random times (chat-like),
// with random rates, offsets and sizes so that no single pixel decides the class.
train::dense_dataset synthetic(std::size_t per_class, std::uint64_t seed) {
    rng r(seed);
    std::vector<float> x;
    std::vector<std::int32_t> y;
    for (std::size_t i = 0; i < 3 * per_class; ++i) {
        const auto cls = static_cast<std::int32_t>(i % 3);
        std::vector<float> pic(32 * 32, 0.0f);
        auto add = [&](double t, double size) {
            const auto col = static_cast<std::size_t>(std::clamp(t / 15.0 * 32, 0.0, 31.0));
            const auto row = static_cast<std::size_t>(std::clamp(size / 1500.0 * 32, 0.0, 31.0));
            pic[row * 32 + col] = std::min(pic[row * 32 + col] + 1.0f / 16, 1.0f);
        };
        if (cls == 0) {
            const double gap = r.uniform(0.02, 0.06), size = r.uniform(80, 260);
            for (double t = r.uniform(0, 0.5); t < 15; t += gap * r.uniform(0.8, 1.2)) add(t, size + r.uniform(-20, 20));
        } else if (cls == 1) {
            for (int b = 0, bursts = 2 + static_cast<int>(r.below(4)); b < bursts; ++b) {
                const double t0 = r.uniform(0, 14);
                for (int k = 0; k < 60; ++k) {
                    add(t0 + r.uniform(0, 0.8), r.uniform(1300, 1500));
                    if (k % 3 == 0) add(t0 + r.uniform(0, 0.8), r.uniform(40, 80));
                }
            }
        } else {
            for (int k = 0, m = 10 + static_cast<int>(r.below(30)); k < m; ++k) add(r.uniform(0, 15), r.uniform(100, 900));
        }
        x.insert(x.end(), pic.begin(), pic.end());
        y.push_back(cls);
    }
    return train::dense_dataset(32 * 32, std::move(x), std::move(y));
}

}  // namespace

TEST_CASE("Adam steps match PyTorch's (class-weighted cross-entropy)") {
    // Adam divides each update by the gradient's own magnitude; the tolerance on updates is
    // therefore 1e-3 of the largest update (float gradients agree to ~1e-6 relative).
    optimiser_parity("train_adam", adam{});
}

TEST_CASE("SGD with momentum steps match PyTorch's") {
    optimiser_parity("train_sgd", sgd({0.05, 0.9}));
}

TEST_CASE("a short training run on a small FlowPic-like task learns") {
    const auto train_set = synthetic(100, 1), val_set = synthetic(50, 2);
    networks::mini_flowpic<3> net(init_scheme::kaiming_uniform, 7);
    const auto [before, m0] = train::evaluate(net, val_set, categorical_crossentropy{});
    adam opt;
    train::fit_options o;
    o.epochs = 6;
    o.batch = 32;
    o.seed = 5;
    const auto r = train::fit(net, train_set, &val_set, categorical_crossentropy{}, opt, o);
    const auto [after, m1] = train::evaluate(net, val_set, categorical_crossentropy{});
    INFO("validation loss " << before << " -> " << after << ", accuracy " << m0.accuracy << " -> " << m1.accuracy);
    CHECK(r.history.front().train_loss > r.history.back().train_loss);
    CHECK(after < 0.5 * before);
    CHECK(m1.accuracy > 0.9);  // chance is 1/3
}

TEST_CASE("training is deterministic for a seed, whatever the thread count") {
    const auto data = synthetic(20, 3);
    auto run = [&](int threads) {
        oneapi::tbb::global_control gc(oneapi::tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
        networks::mini_flowpic<3> net(init_scheme::kaiming_uniform, 9);
        adam opt;
        train::fit_options o;
        o.epochs = 2;
        o.batch = 16;
        o.seed = 11;
        train::fit(net, data, static_cast<const train::dense_dataset*>(nullptr), categorical_crossentropy{}, opt, o);
        return std::vector<float>(net.params().begin(), net.params().end());
    };
    const auto a = run(1), b = run(2), c = run(2);
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(b.data(), c.data(), b.size() * sizeof(float)) == 0);
    CHECK(train::epoch_order(10, 1, 0) != train::epoch_order(10, 2, 0));
    CHECK(train::epoch_order(10, 1, 0) != train::epoch_order(10, 1, 1));
}

TEST_CASE("early stopping stops on a rising validation loss and restores the best weights") {
    // labels unrelated to the pictures: the network can only memorise, so validation loss rises
    auto noisy = synthetic(40, 4);
    std::vector<float> xs(noisy.size() * 1024);
    std::vector<std::int32_t> ys(noisy.size());
    rng r(12);
    for (std::size_t i = 0; i < noisy.size(); ++i) {
        noisy.fill(i, xs.data() + i * 1024);
        ys[i] = static_cast<std::int32_t>(r.below(3));
    }
    const train::dense_dataset shuffled(1024, xs, ys);
    const auto val = synthetic(20, 5);
    networks::mini_flowpic<3> net(init_scheme::kaiming_uniform, 13);
    adam opt({0.01});
    train::fit_options o;
    o.epochs = 40;
    o.batch = 16;
    o.patience = 2;
    const auto res = train::fit(net, shuffled, &val, categorical_crossentropy{}, opt, o);
    CHECK(res.stopped_early);
    CHECK(res.history.size() == res.best_epoch + 1 + o.patience);
    const auto [l, m] = train::evaluate(net, val, categorical_crossentropy{}, 64);
    CHECK(std::abs(l - res.best_val_loss) <= 1e-9 * std::abs(l));
    (void)m;
}

TEST_CASE("metrics on a hand-made case") {
    // 3 classes, 6 samples; rows: probabilities
    const std::vector<float> p{0.7f, 0.2f, 0.1f,  0.1f, 0.5f, 0.4f,  0.3f, 0.3f, 0.4f,
                               0.2f, 0.5f, 0.3f,  0.6f, 0.3f, 0.1f,  0.1f, 0.1f, 0.8f};
    const std::vector<std::int32_t> y{0, 2, 2, 1, 1, 2};
    const auto r = train::classification_metrics(p, y, 3);
    // predictions 0, 1, 2, 1, 0, 2: correct 0, 2, 1(4th), 2(6th) -> 4 of 6
    CHECK(r.accuracy == doctest::Approx(4.0 / 6));
    // top-2: sample 2 (true 2, second 2) yes, sample 5 (true 1, second 1) yes -> 6 of 6
    CHECK(r.top2 == doctest::Approx(1.0));
    CHECK(r.at(0, 0) == 1);
    CHECK(r.at(1, 0) == 1);
    CHECK(r.at(1, 1) == 1);
    CHECK(r.at(2, 1) == 1);
    CHECK(r.at(2, 2) == 2);
    CHECK(r.precision[0] == doctest::Approx(0.5));   // predicted 0 twice, right once
    CHECK(r.recall[2] == doctest::Approx(2.0 / 3));  // three 2s, two found
    CHECK(r.f1[1] == doctest::Approx(0.5));          // P 1/2, R 1/2
    const std::vector<float> s{0.2f, 0.9f, 0.5f};
    const auto b = train::classification_metrics(s, std::vector<std::int32_t>{0, 1, 0}, 1);
    CHECK(b.classes == 2);
    CHECK(b.accuracy == doctest::Approx(2.0 / 3));
}
