#pragma once
// The published networks' class templates, declared only (defined in nn/networks.hpp): a preset
// names its network through them without making its includer parse the layers.

#include <cstddef>

namespace flowpic::nn::networks {

template <std::size_t Classes, std::size_t H, std::size_t W, std::size_t Channels>
struct shapira2019_of;
template <std::size_t Classes, std::size_t Resolution>
struct mini_flowpic_of;
template <std::size_t H, std::size_t W, std::size_t Channels>
struct network_stats_of;

}  // namespace flowpic::nn::networks
