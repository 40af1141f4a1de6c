#pragma once
// What the context (picture_api.cu) hands the kernels (picture_kernels.cu) for one chunk.

#include <cstddef>
#include <cstdint>

#include <cuda_runtime.h>

#include "flowpic/cuda/picture_api.hpp"
#include "flowpic/cuda/picture_math.hpp"

namespace flowpic::cuda::detail {

// One chunk's inputs and outputs (device pointers) and its stream.
struct chunk_args {
    const flowpic_cuda_packet* packets;
    const std::uint32_t* offsets;  // blocks + 1
    const flowpic_cuda_block_time* times;
    std::uint32_t blocks;
    std::uint32_t packet_count;
    const std::int32_t* lut;
    const void* table;       // FLOWPIC_CUDA_COUNTS_TABLE values
    const void* background;  // one value per channel
    bool background_zero;    // every background value is all-zero bytes (a memset fills dense output)
    math::bin_params bp;
    math::value_params vp;
    math::key_params kp;
    std::uint32_t value_bytes;
    int output;              // flowpic_cuda_output
    void* dense;             // dense: blocks x channels x cells values
    std::uint32_t* nnz;      // sparse: blocks
    std::uint32_t* cells;    // sparse: packet_count (block b's cells from offsets[b])
    void* values;            // sparse: packet_count x channels
    cudaStream_t stream;
};

// Scratch of the sort path, carved from one device allocation.
struct sort_scratch {
    std::uint64_t* keys;    // packet_count
    std::uint64_t* sorted;  // packet_count
    std::uint32_t* flags;   // packet_count + 1: run starts
    std::uint32_t* scan;    // packet_count + 1: their exclusive prefix sum
    math::run_arrays runs;  // packet_count each
    void* temp;             // CUB's temporary storage
    std::size_t temp_bytes;
};

// Whether the shared-memory path holds a picture's counters.
[[nodiscard]] bool shared_path_fits(std::uint32_t cells, bool dir) noexcept;

// Bytes of one device allocation that holds the sort path's scratch for a chunk, and the carving.
[[nodiscard]] cudaError_t sort_scratch_bytes(std::uint32_t packets, std::uint32_t blocks, const math::key_params& kp,
                                             std::size_t* bytes, std::size_t* temp_bytes);
[[nodiscard]] sort_scratch carve_sort_scratch(void* base, std::uint32_t packets, std::size_t temp_bytes) noexcept;

// Queue the kernels of one chunk on a.stream (after its upload, before its download).
[[nodiscard]] cudaError_t run_shared_path(const chunk_args& a);
[[nodiscard]] cudaError_t run_sort_path(const chunk_args& a, const sort_scratch& s);

}  // namespace flowpic::cuda::detail
