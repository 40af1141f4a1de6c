// flowpic::cuda's network API on host memory, for tests on machines without a GPU: the very
// src/cuda/network_api_impl.hpp that the library compiles with nvcc, bound to a device interface
// whose "device memory" is host memory and whose launch runs op(i) for every element (spread
// over oneTBB, since the ops promise that elements are independent). What it cannot check is
// the CUDA side of the binding: the grid-stride launch, streams and copies (tests/cuda does).
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

namespace flowpic::cuda::nn_device {

using stream_t = int;
inline constexpr int out_of_memory = 2;  // cudaErrorMemoryAllocation's value
enum copy_kind { to_device, to_host, on_device };

inline int device_count(int* n) {
    *n = 1;
    return 0;
}
inline int current_device(int* d) {
    *d = 0;
    return 0;
}
inline int set_device(int) { return 0; }
inline int stream_create(stream_t* s) {
    *s = 1;
    return 0;
}
inline void stream_destroy(stream_t) {}
inline int allocate(void** p, std::size_t bytes) {
    // 256-byte alignment like cudaMalloc; poison so that a read of unwritten memory shows
    *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!*p) return out_of_memory;
    std::memset(*p, 0xff, bytes);  // NaN as float
    return 0;
}
inline int release(void* p) {
    std::free(p);
    return 0;
}
inline int copy(void* dst, const void* src, std::size_t bytes, copy_kind, stream_t) {
    std::memmove(dst, src, bytes);
    return 0;
}
inline int zero(void* dst, std::size_t bytes, stream_t) {
    std::memset(dst, 0, bytes);
    return 0;
}
inline int synchronize(stream_t) { return 0; }

template <class Op>
int launch(stream_t, const Op& op) {
    oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, op.count(), 1024), [&](const auto& r) {
        for (std::size_t i = r.begin(); i < r.end(); ++i) op(i);
    });
    return 0;
}

}  // namespace flowpic::cuda::nn_device

#include "network_api_impl.hpp"

#include "flowpic/cuda/error.hpp"

// The picture half's status text, which flowpic::cuda::check_nn also uses.
extern "C" const char* flowpic_cuda_error_string(int status) {
    const char* own = flowpic::cuda::status_text(status);
    return own ? own : "CUDA runtime error (emulated device)";
}
