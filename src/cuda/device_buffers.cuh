#pragma once
// Growing buffers of device memory and of pinned (page-locked) host memory: reserve() keeps the
// allocation when it is large enough and otherwise replaces it by one at least 1.5 times larger,
// so that a context settles after its first chunks and then allocates nothing. Contents are not
// kept across a growth (callers reserve before they fill). The caller makes sure no work in
// flight uses a buffer it grows.

#include <cstddef>

#include <cuda_runtime.h>

namespace flowpic::cuda::detail {

class device_buffer {
public:
    device_buffer() = default;
    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;
    ~device_buffer() { release(); }

    cudaError_t reserve(std::size_t bytes);
    void release() noexcept;
    [[nodiscard]] void* data() const noexcept { return p_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
    template <class T>
    [[nodiscard]] T* as() const noexcept {
        return static_cast<T*>(p_);
    }

private:
    void* p_ = nullptr;
    std::size_t cap_ = 0;
};

class pinned_buffer {
public:
    pinned_buffer() = default;
    pinned_buffer(const pinned_buffer&) = delete;
    pinned_buffer& operator=(const pinned_buffer&) = delete;
    ~pinned_buffer() { release(); }

    cudaError_t reserve(std::size_t bytes);
    void release() noexcept;
    [[nodiscard]] void* data() const noexcept { return p_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return cap_; }
    template <class T>
    [[nodiscard]] T* as() const noexcept {
        return static_cast<T*>(p_);
    }

private:
    void* p_ = nullptr;
    std::size_t cap_ = 0;
};

// The size a buffer grows to for a request: 1.5x the old capacity at least, rounded up to 4 KiB.
[[nodiscard]] std::size_t grown_capacity(std::size_t old_capacity, std::size_t bytes) noexcept;

}  // namespace flowpic::cuda::detail
