// Compile-time composition: shapes, parameter and multiply-add counts of the presets against the
// numbers published with each network (reference.md A.1-A.3) and PyTorch's summaries, and the
// compositions the layers must refuse.
#include <doctest/doctest.h>

#include "flowpic/nn/networks.hpp"

using namespace flowpic::nn;

// reference.md A.1: 309,419 parameters for C = 5 and 108.3 M multiply-adds (peers: 108,288,320).
static_assert(networks::shapira2019<5>::param_count == 309'419);
static_assert(networks::shapira2019<5>::macs == 108'288'320);
static_assert(networks::shapira2019<5>::output_shape == shape{5, 1, 1});
// A.2: 61,281 at 32x32, C = 5 (0.42 M MACs: peers 416,100); 337,761 at 64x64.
static_assert(networks::mini_flowpic<5>::param_count == 61'281);
static_assert(networks::mini_flowpic<5>::macs == 416'100);
static_assert(networks::mini_flowpic<5, 64>::param_count == 337'761);
// A.3: valid padding, flatten 3920, 272,039 parameters, one sigmoid output.
static_assert(networks::network_stats<>::param_count == 272'039);
static_assert(networks::network_stats<>::output_shape == shape{1, 1, 1});

// Keras 'same' for kernel 10, stride 5: 2 before, 3 after; 1500 -> 300 -> 150 -> 30 -> 15.
using conv1 = conv2d<10, 10, 5, padding::same>::bind<shape{1, 1500, 1500}>;
static_assert(conv1::p == pads{2, 3, 2, 3});
static_assert(conv1::out == shape{10, 300, 300});
using conv2 = conv2d<20, 10, 5, padding::same>::bind<shape{10, 150, 150}>;
static_assert(conv2::out == shape{20, 30, 30});
static_assert(max_pool2d<2>::bind<conv2::out>::out == shape{20, 15, 15});
// valid: 1500 -> 299 -> 149 -> 28 -> 14 (floor), flatten 3920
static_assert(conv2d<10, 10, 5>::bind<shape{1, 1500, 1500}>::out == shape{10, 299, 299});
static_assert(flatten::bind<shape{20, 14, 14}>::out == shape{3920, 1, 1});
// tcbench's 1500x1500 network: symmetric padding 3 gives the same 300 / 30 maps
static_assert(conv2d<10, 10, 5, padding::symmetric<3>>::bind<shape{1, 1500, 1500}>::out == shape{10, 300, 300});

// Compositions that must not compile: checked through the predicates the static_asserts use.
static_assert(!dense<4>::accepts<shape{3, 8, 8}>, "dense needs flatten first");
static_assert(!conv2d<4, 5>::accepts<shape{3, 4, 4}>, "kernel larger than the input");
static_assert(conv2d<4, 5, 1, padding::symmetric<1>>::accepts<shape{3, 4, 4}>, "padding makes room");
static_assert(!max_pool2d<2>::accepts<shape{64, 1, 1}>, "pooling after flatten");
static_assert(!softmax::accepts<shape{5, 2, 2}>, "softmax on a picture");
static_assert(!layer_spec<int>);

// Stages the fast kernels see: the FlowPic conv blocks fuse ReLU, dropout and the 2x2 pool.
static_assert(networks::shapira2019<5>::stages::size == 8);  // conv, conv, flatten, dense, relu, dropout, dense, softmax

TEST_CASE("network signatures name every layer and shape") {
    const auto s = networks::shapira2019<5>::signature();
    CHECK(s.find("input(1x1500x1500);conv2d(10,k10,s5,pad 2/3/2/3)->10x300x300;relu;max_pool2d(2,s2)->10x150x150") == 0);
    CHECK(s.find("dense(5)->5x1x1;softmax") != std::string::npos);
    CHECK(networks::shapira2019<5>::signature() != networks::shapira2019<4>::signature());
    CHECK(networks::shapira2019<5>::signature() != networks::network_stats<>::signature());
}

TEST_CASE("parameter tensors follow PyTorch's layout and numbering") {
    const auto t = networks::shapira2019<5>::tensors();
    REQUIRE(t.size() == 8);
    CHECK(t[0].group == 0);
    CHECK(t[0].info.role == "weight");
    CHECK(t[0].info.dims == std::vector<std::size_t>{10, 1, 10, 10});
    CHECK(t[1].info.dims == std::vector<std::size_t>{10});
    CHECK(t[4].group == 2);
    CHECK(t[4].info.dims == std::vector<std::size_t>{64, 4500});
    CHECK(t[7].group == 3);
    CHECK(t[7].offset + t[7].info.size() == networks::shapira2019<5>::param_count);
}
