#pragma once
// Owning C++ handles over flowpic/cuda/network_api.hpp: nn_context (a context: device, stream,
// scratch) and device_array<T> (device memory allocated through it). Free of CUDA headers; the
// functions come from the compiled component flowpic::cuda. Failures throw flowpic::cuda::error.

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "flowpic/cuda/error.hpp"
#include "flowpic/cuda/growing_buffer.hpp"
#include "flowpic/cuda/network_api.hpp"

namespace flowpic::cuda {

// Throws cuda::error for a failed network status; `operation` names the API function.
inline void check_nn(int status, const char* operation) {
    if (status == FLOWPIC_CUDA_SUCCESS) return;
    switch (status) {
        case FLOWPIC_CUDA_BAD_LABEL: throw error(status, operation, "a label outside the network's classes");
        case FLOWPIC_CUDA_ZERO_WEIGHT: throw error(status, operation, "the class weights of the batch sum to 0");
        default: throw_if_failed(status, operation, flowpic_cuda_error_string(status));
    }
}

class nn_context {
public:
    // device -1: the calling thread's current device.
    explicit nn_context(int device = -1) { check_nn(flowpic_cuda_nn_create(device, &ctx_), "flowpic_cuda_nn_create"); }
    ~nn_context() { flowpic_cuda_nn_destroy(ctx_); }
    nn_context(const nn_context&) = delete;
    nn_context& operator=(const nn_context&) = delete;
    nn_context(nn_context&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}
    nn_context& operator=(nn_context&& o) noexcept {
        if (this != &o) {
            flowpic_cuda_nn_destroy(ctx_);
            ctx_ = std::exchange(o.ctx_, nullptr);
        }
        return *this;
    }

    [[nodiscard]] flowpic_cuda_nn* get() const noexcept { return ctx_; }
    [[nodiscard]] int device() const {
        int d = 0;
        check_nn(flowpic_cuda_nn_device(ctx_, &d), "flowpic_cuda_nn_device");
        return d;
    }
    void synchronize() const { check_nn(flowpic_cuda_nn_synchronize(ctx_), "flowpic_cuda_nn_synchronize"); }

private:
    flowpic_cuda_nn* ctx_ = nullptr;
};

// A network context's device memory, for the one growing buffer.
struct nn_memory {
    flowpic_cuda_nn* context = nullptr;
    int allocate(void** p, std::size_t bytes) { return flowpic_cuda_nn_malloc(context, bytes, p); }
    void release(void* p) noexcept { flowpic_cuda_nn_free(context, p); }
};

// Device memory for `size` values of a trivially copyable T, grown by reserve() (contents are
// not kept across a growth). capacity() is the most values reserved, which upload and download
// check against (the buffer underneath may hold more).
template <class T>
class device_array {
    static_assert(std::is_trivially_copyable_v<T>, "flowpic::cuda::device_array holds trivially copyable values");

public:
    device_array() = default;
    device_array(const nn_context& ctx, std::size_t size) : buf_(nn_memory{ctx.get()}) { reserve(size); }
    device_array(device_array&& o) noexcept : buf_(std::move(o.buf_)), size_(std::exchange(o.size_, 0)) {}
    device_array& operator=(device_array&& o) noexcept {
        if (this != &o) {
            buf_ = std::move(o.buf_);
            size_ = std::exchange(o.size_, 0);
        }
        return *this;
    }

    void bind(const nn_context& ctx) {
        if (buf_.memory().context != ctx.get()) {
            release();
            buf_.memory().context = ctx.get();
        }
    }
    // At least `size` values (one at least, so that the pointer is never null).
    T* reserve(std::size_t size) {
        if (!buf_.memory().context) throw std::logic_error("flowpic::cuda::device_array: no context bound");
        if (size > static_cast<std::size_t>(-1) / sizeof(T))
            throw std::length_error("flowpic::cuda::device_array: " + std::to_string(size) + " values do not fit memory");
        const std::size_t n = size ? size : 1;
        check_nn(buf_.reserve(n * sizeof(T)), "flowpic_cuda_nn_malloc");
        if (n > size_) size_ = n;
        return data();
    }
    void upload(std::span<const T> host, std::size_t at = 0) {
        if (at + host.size() > capacity()) throw std::out_of_range("flowpic::cuda::device_array::upload: beyond the array");
        check_nn(flowpic_cuda_nn_upload(ctx(), data() + at, host.data(), host.size_bytes()), "flowpic_cuda_nn_upload");
    }
    void download(std::span<T> host, std::size_t at = 0) const {
        if (at + host.size() > capacity()) throw std::out_of_range("flowpic::cuda::device_array::download: beyond the array");
        check_nn(flowpic_cuda_nn_download(ctx(), host.data(), data() + at, host.size_bytes()), "flowpic_cuda_nn_download");
    }
    void zero(std::size_t count) {
        check_nn(flowpic_cuda_nn_zero(ctx(), data(), count * sizeof(T)), "flowpic_cuda_nn_zero");
    }
    void release() noexcept {
        buf_.release();
        size_ = 0;
    }

    [[nodiscard]] T* data() const noexcept { return buf_.template as<T>(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return size_; }

private:
    [[nodiscard]] flowpic_cuda_nn* ctx() const noexcept { return buf_.memory().context; }
    growing_buffer<nn_memory> buf_;
    std::size_t size_ = 0;
};

}  // namespace flowpic::cuda
