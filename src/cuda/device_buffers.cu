// Growing device and pinned host buffers (device_buffers.cuh).
#include "device_buffers.cuh"

namespace flowpic::cuda::detail {

std::size_t grown_capacity(std::size_t old_capacity, std::size_t bytes) noexcept {
    std::size_t c = old_capacity + old_capacity / 2;
    if (c < bytes) c = bytes;
    constexpr std::size_t page = 4096;
    return (c + page - 1) / page * page;
}

cudaError_t device_buffer::reserve(std::size_t bytes) {
    if (bytes <= cap_) return cudaSuccess;
    const std::size_t cap = grown_capacity(cap_, bytes);
    release();
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, cap);
    if (e != cudaSuccess) return e;
    p_ = p;
    cap_ = cap;
    return cudaSuccess;
}

void device_buffer::release() noexcept {
    if (p_) cudaFree(p_);  // errors at process teardown (runtime unloading) are of no use here
    p_ = nullptr;
    cap_ = 0;
}

cudaError_t pinned_buffer::reserve(std::size_t bytes) {
    if (bytes <= cap_) return cudaSuccess;
    const std::size_t cap = grown_capacity(cap_, bytes);
    release();
    void* p = nullptr;
    const cudaError_t e = cudaMallocHost(&p, cap);
    if (e != cudaSuccess) return e;
    p_ = p;
    cap_ = cap;
    return cudaSuccess;
}

void pinned_buffer::release() noexcept {
    if (p_) cudaFreeHost(p_);
    p_ = nullptr;
    cap_ = 0;
}

}  // namespace flowpic::cuda::detail
