// Parity with PyTorch: fixtures made by scripts/make_nn_fixtures.py (Debian's python3-torch)
// hold seeds for flowpic's weight generator (reimplemented there), inputs, PyTorch's
// probabilities, loss and gradients for every preset. flowpic must match them within 1e-4
// relative: probabilities and the loss element-wise, each gradient tensor in max norm
// (max |ours - torch| <= 1e-4 * max |torch|; single elements of a gradient can be arbitrarily
// close to zero, where a relative error says nothing). Keras' asymmetric 'same' padding is
// PyTorch's ZeroPad2d(2, 3, 2, 3) there.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "flowpic/core/npy.hpp"
#include "flowpic/nn/networks.hpp"
#include "shared_data.hpp"

using namespace flowpic;
using namespace flowpic::nn;

namespace {

flowpic::npy::array<float> fixture(const std::string& c, const std::string& name) {
    return flowpic::npy::load_as<float>(test::repo("tests/fixtures/nn/" + c + "/" + name + ".npy"));
}

std::vector<float> input_of(const std::string& c, shape s, std::size_t n) {
    const std::string dir = test::repo("tests/fixtures/nn/" + c + "/");
    if (std::FILE* f = std::fopen((dir + "input.npy").c_str(), "rb")) {
        std::fclose(f);
        return fixture(c, "input").data;
    }
    const auto coo = fixture(c, "input_coo");
    const auto v = fixture(c, "input_values");
    std::vector<float> x(n * s.size(), 0.0f);
    for (std::size_t i = 0; i < v.data.size(); ++i) {
        const auto* r = coo.data.data() + 4 * i;
        x[static_cast<std::size_t>(r[0]) * s.size() + (static_cast<std::size_t>(r[1]) * s.h + static_cast<std::size_t>(r[2])) * s.w +
          static_cast<std::size_t>(r[3])] = v.data[i];
    }
    return x;
}

void check_close(const std::vector<float>& ours, const std::vector<float>& torch, double rel, const std::string& what) {
    REQUIRE(ours.size() == torch.size());
    for (std::size_t i = 0; i < ours.size(); ++i) {
        INFO(what << " [" << i << "] ours " << ours[i] << " torch " << torch[i]);
        CHECK(std::abs(ours[i] - torch[i]) <= rel * std::abs(torch[i]) + 1e-7);
    }
}

template <class Net, class Loss, class K>
void parity(const std::string& c, K kernels) {
    Net net(init_scheme::kaiming_uniform, static_cast<std::uint64_t>(fixture(c, "seed").data[0]));
    const auto labels_f = fixture(c, "labels").data;
    const std::size_t n = labels_f.size();
    const auto x = input_of(c, Net::input_shape, n);
    std::vector<std::int32_t> labels(labels_f.begin(), labels_f.end());

    std::vector<float> probs(n * Net::output_shape.size());
    net.predict(x.data(), n, probs.data(), kernels);
    check_close(probs, fixture(c, "probs").data, 1e-4, c + " probabilities");

    const double loss = net.gradient(x.data(), n, targets{labels, {}}, Loss{}, run_context{}, kernels);
    const double want = fixture(c, "loss").data[0];
    CHECK(std::abs(loss - want) <= 1e-4 * std::abs(want));

    const std::string dir = test::repo("tests/fixtures/nn/" + c + "/");
    const auto grads = net.grads();
    for (const auto& t : Net::tensors()) {
        const std::string name = std::to_string(t.group) + "." + t.info.role;
        std::vector<float> ours, theirs;
        if (std::FILE* f = std::fopen((dir + "grad_" + name + ".npy").c_str(), "rb")) {
            std::fclose(f);
            theirs = fixture(c, "grad_" + name).data;
            ours.assign(grads.begin() + static_cast<std::ptrdiff_t>(t.offset),
                        grads.begin() + static_cast<std::ptrdiff_t>(t.offset + t.info.size()));
        } else {
            const auto idx = fixture(c, "grad_" + name + ".idx").data;
            theirs = fixture(c, "grad_" + name + ".val").data;
            for (float i : idx) ours.push_back(grads[t.offset + static_cast<std::size_t>(i)]);
        }
        REQUIRE(ours.size() == theirs.size());
        double scale = 0, err = 0;
        for (std::size_t i = 0; i < ours.size(); ++i) {
            scale = std::max(scale, double(std::abs(theirs[i])));
            err = std::max(err, double(std::abs(ours[i] - theirs[i])));
        }
        INFO(c << " gradient " << name << ": max error " << err << " of max " << scale);
        CHECK(scale > 0);
        CHECK(err <= 1e-4 * scale);
    }
}

}  // namespace

TEST_CASE("PyTorch parity: mini_flowpic 32x32, 5 classes (scalar and fast kernels)") {
    parity<networks::mini_flowpic<5>, categorical_crossentropy>("mini_flowpic32_c5", flowpic::backend::scalar{});
    parity<networks::mini_flowpic<5>, categorical_crossentropy>("mini_flowpic32_c5", flowpic::backend::tbb{});
}

TEST_CASE("PyTorch parity: mini_flowpic 64x64, 3 classes") {
    parity<networks::mini_flowpic<3, 64>, categorical_crossentropy>("mini_flowpic64_c3", flowpic::backend::scalar{});
    parity<networks::mini_flowpic<3, 64>, categorical_crossentropy>("mini_flowpic64_c3", flowpic::backend::tbb{});
}

TEST_CASE("PyTorch parity: FlowPic layers on 160x160 ('same' pads 2/3, then 4/5)") {
    parity<networks::shapira2019<4, 160>, categorical_crossentropy>("shapira2019_160_c4", flowpic::backend::scalar{});
    parity<networks::shapira2019<4, 160>, categorical_crossentropy>("shapira2019_160_c4", flowpic::backend::tbb{});
}

TEST_CASE("PyTorch parity: shapira2019 at 1500x1500, 5 classes") {
    parity<networks::shapira2019<5>, categorical_crossentropy>("shapira2019_c5", flowpic::backend::tbb{});
}

TEST_CASE("PyTorch parity: network_stats (valid padding, sigmoid, binary cross-entropy)") {
    parity<networks::network_stats<>, binary_crossentropy>("network_stats", flowpic::backend::tbb{});
}

TEST_CASE("PyTorch parity: the scalar oracle at 1500x1500") {
    parity<networks::shapira2019<5>, categorical_crossentropy>("shapira2019_c5", flowpic::backend::scalar{});
}
