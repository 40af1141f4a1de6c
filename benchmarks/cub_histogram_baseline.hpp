#pragma once
// The CUB baseline of bench_pictures_cuda: a chunk of blocks binned with flowpic's own float64
// formula (flowpic/cuda/picture_math.hpp), then counted by one cub::DeviceHistogram::HistogramEven
// over the linear index block * cells + cell (a 2-D histogram per block, all blocks at once),
// the raw uint32 counts downloaded. No values, no sparse output, one stream, no overlap: what a
// generic GPU histogram gives for the same work, transfers included. Plain C++ interface so that
// the benchmark itself is an ordinary .cpp.

#include <cstddef>
#include <cstdint>

#include "flowpic/cuda/picture_api.hpp"

struct cub_baseline;

// Status codes as in flowpic/cuda/picture_api.hpp.
int cub_baseline_create(const flowpic_cuda_picture_config* config, cub_baseline** out);
void cub_baseline_destroy(cub_baseline* b);
// Pinned input buffers for a chunk (grown as needed).
int cub_baseline_stage(cub_baseline* b, std::size_t blocks, std::size_t packets, flowpic_cuda_staging* staging);
// Upload, bin, histogram, download; returns when the counts (blocks x cells) are in pinned memory.
int cub_baseline_run(cub_baseline* b, const std::uint32_t** counts);
