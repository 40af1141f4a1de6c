#pragma once
// The published FlowPic networks (reference.md A.1-A.3) as nn::sequential types, each also on
// other input sizes so that tests can run them on small pictures. The presets (flowpic/presets/)
// pair each with its windows and pictures; they name the *_of class templates (declared in
// nn/networks_fwd.hpp), so that code which needs a preset's pictures only never parses a network.

#include <cstddef>

#include "flowpic/nn/networks_fwd.hpp"
#include "flowpic/nn/sequential.hpp"

namespace flowpic::nn::networks {

// FlowPic (Shapira & Shavitt 2019): Keras 'same' padding (2 before, 3 after), softmax over C.
// 309,419 parameters and 108.3 M multiply-adds per 1500x1500 picture for C = 5.
template <std::size_t Classes, std::size_t H, std::size_t W, std::size_t Channels>
struct shapira2019_of {
    using type = sequential<input<Channels, H, W>, conv2d<10, 10, 5, padding::same>, relu, max_pool2d<2>,
               conv2d<20, 10, 5, padding::same>, relu, dropout<0.25>, max_pool2d<2>, flatten, dense<64>, relu,
               dropout<0.5>, dense<Classes>, softmax>;
};
template <std::size_t Classes, std::size_t H = 1500, std::size_t W = H, std::size_t Channels = 1>
using shapira2019 = typename shapira2019_of<Classes, H, W, Channels>::type;

// mini-FlowPic (Horowicz et al. 2022, as tcbench): LeNet-5 on 32x32 or 64x64 pictures.
// 61,281 parameters at 32x32 and C = 5.
template <std::size_t Classes, std::size_t Resolution>
struct mini_flowpic_of {
    using type = sequential<input<1, Resolution, Resolution>, conv2d<6, 5>, relu, max_pool2d<2>, conv2d<16, 5>, relu,
               dropout2d<0.25>, max_pool2d<2>, flatten, dense<120>, relu, dense<84>, relu, dropout<0.5>,
               dense<Classes>, softmax>;
};
template <std::size_t Classes, std::size_t Resolution = 32>
using mini_flowpic = typename mini_flowpic_of<Classes, Resolution>::type;

// The capstone replication (parkeraddison/flowpic-replication): valid padding, one sigmoid
// output (video or not). 272,039 parameters with one channel.
template <std::size_t H, std::size_t W, std::size_t Channels>
struct network_stats_of {
    using type = sequential<input<Channels, H, W>, conv2d<10, 10, 5>, relu, max_pool2d<2>, conv2d<20, 10, 5>, relu,
               dropout<0.25>, max_pool2d<2>, flatten, dense<64>, relu, dropout<0.5>, dense<1>, sigmoid>;
};
template <std::size_t H = 1500, std::size_t W = H, std::size_t Channels = 1>
using network_stats = typename network_stats_of<H, W, Channels>::type;

}  // namespace flowpic::nn::networks
