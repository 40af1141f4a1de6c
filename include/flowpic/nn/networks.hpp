#pragma once
// The published FlowPic networks (reference.md A.1-A.3) as nn::sequential types, each also on
// other input sizes so that tests can run them on small pictures. The presets (flowpic/presets/)
// pair each with its windows and pictures.

#include <cstddef>

#include "flowpic/nn/sequential.hpp"

namespace flowpic::nn::networks {

// FlowPic (Shapira & Shavitt 2019): Keras 'same' padding (2 before, 3 after), softmax over C.
// 309,419 parameters and 108.3 M multiply-adds per 1500x1500 picture for C = 5.
template <std::size_t Classes, std::size_t H = 1500, std::size_t W = H, std::size_t Channels = 1>
using shapira2019 =
    sequential<input<Channels, H, W>, conv2d<10, 10, 5, padding::same>, relu, max_pool2d<2>,
               conv2d<20, 10, 5, padding::same>, relu, dropout<0.25>, max_pool2d<2>, flatten, dense<64>, relu,
               dropout<0.5>, dense<Classes>, softmax>;

// mini-FlowPic (Horowicz et al. 2022, as tcbench): LeNet-5 on 32x32 or 64x64 pictures.
// 61,281 parameters at 32x32 and C = 5.
template <std::size_t Classes, std::size_t Resolution = 32>
using mini_flowpic =
    sequential<input<1, Resolution, Resolution>, conv2d<6, 5>, relu, max_pool2d<2>, conv2d<16, 5>, relu,
               dropout2d<0.25>, max_pool2d<2>, flatten, dense<120>, relu, dense<84>, relu, dropout<0.5>,
               dense<Classes>, softmax>;

// The capstone replication (parkeraddison/flowpic-replication): valid padding, one sigmoid
// output (video or not). 272,039 parameters with one channel.
template <std::size_t H = 1500, std::size_t W = H, std::size_t Channels = 1>
using network_stats =
    sequential<input<Channels, H, W>, conv2d<10, 10, 5>, relu, max_pool2d<2>, conv2d<20, 10, 5>, relu,
               dropout<0.25>, max_pool2d<2>, flatten, dense<64>, relu, dropout<0.5>, dense<1>, sigmoid>;

}  // namespace flowpic::nn::networks
