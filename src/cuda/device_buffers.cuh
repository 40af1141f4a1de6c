#pragma once
// Growing buffers of device memory and of pinned (page-locked) host memory: the one growing
// buffer (flowpic/cuda/growing_buffer.hpp) over the CUDA runtime's allocators.

#include <cstddef>

#include <cuda_runtime.h>

#include "flowpic/cuda/growing_buffer.hpp"

namespace flowpic::cuda::detail {

struct device_memory {
    cudaError_t allocate(void** p, std::size_t bytes) { return cudaMalloc(p, bytes); }
    void release(void* p) noexcept { cudaFree(p); }  // errors at process teardown are of no use here
};

struct pinned_memory {
    cudaError_t allocate(void** p, std::size_t bytes) { return cudaMallocHost(p, bytes); }
    void release(void* p) noexcept { cudaFreeHost(p); }
};

using device_buffer = growing_buffer<device_memory>;
using pinned_buffer = growing_buffer<pinned_memory>;

}  // namespace flowpic::cuda::detail
