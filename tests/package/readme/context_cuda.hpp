// What the README's CUDA snippet leaves to the reader (its inputs), declared so that the snippet
// compiles and runs as written: two empty 1500x1500 pictures, two blocks, a two-sample dataset.
#pragma once
#include <flowpic/flowpic.hpp>
#include <flowpic/nn/cuda_network.hpp>
#include <flowpic/picture/kernels/cuda.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

inline constexpr std::size_t n = 2;
inline const std::size_t picture_size = flowpic::nn::networks::shapira2019<5>::input_shape.size();
inline std::vector<float> input_pictures(n * picture_size);
inline const float* x = input_pictures.data();
inline std::vector<float> output(n * 5);
inline float* probs = output.data();
inline std::vector<flowpic::blocks::block> capture_blocks(2);
inline flowpic::train::dense_dataset train_set(picture_size, input_pictures, {0, 1});
inline flowpic::train::dense_dataset val_set(picture_size, input_pictures, {0, 1});
inline flowpic::nn::adam adam;
inline flowpic::train::fit_options options{.epochs = 1, .batch = 2};
