// The network half of flowpic::cuda on the CUDA runtime: cuda/network_api_impl.hpp over a
// non-blocking stream per context, every op a grid-stride kernel (flowpic/cuda/network_math.hpp).
#include <cstddef>

#include <cuda_runtime.h>

namespace flowpic::cuda::nn_device {

using stream_t = cudaStream_t;
inline constexpr int out_of_memory = cudaErrorMemoryAllocation;
enum copy_kind { to_device, to_host, on_device };

inline int device_count(int* n) { return static_cast<int>(cudaGetDeviceCount(n)); }
inline int current_device(int* d) { return static_cast<int>(cudaGetDevice(d)); }
inline int set_device(int d) { return static_cast<int>(cudaSetDevice(d)); }
inline int stream_create(stream_t* s) { return static_cast<int>(cudaStreamCreateWithFlags(s, cudaStreamNonBlocking)); }
inline void stream_destroy(stream_t s) { cudaStreamDestroy(s); }
inline int allocate(void** p, std::size_t bytes) { return static_cast<int>(cudaMalloc(p, bytes)); }
inline int release(void* p) { return static_cast<int>(cudaFree(p)); }
inline int copy(void* dst, const void* src, std::size_t bytes, copy_kind k, stream_t s) {
    const cudaMemcpyKind kind = k == to_device ? cudaMemcpyHostToDevice
                                : k == to_host ? cudaMemcpyDeviceToHost
                                               : cudaMemcpyDeviceToDevice;
    return static_cast<int>(cudaMemcpyAsync(dst, src, bytes, kind, s));
}
inline int zero(void* dst, std::size_t bytes, stream_t s) { return static_cast<int>(cudaMemsetAsync(dst, 0, bytes, s)); }
inline int synchronize(stream_t s) { return static_cast<int>(cudaStreamSynchronize(s)); }

template <class Op>
__global__ void __launch_bounds__(256) for_each_kernel(Op op, std::size_t count) {
    const std::size_t stride = std::size_t{gridDim.x} * blockDim.x;
    for (std::size_t i = std::size_t{blockIdx.x} * blockDim.x + threadIdx.x; i < count; i += stride) op(i);
}

// Every element of op: one thread each, up to 2^20 blocks of 256 (then grid-stride).
template <class Op>
int launch(stream_t s, const Op& op) {
    const std::size_t count = op.count();
    constexpr unsigned threads = 256;
    const std::size_t wanted = (count + threads - 1) / threads;
    const auto blocks = static_cast<unsigned>(wanted < (std::size_t{1} << 20) ? wanted : (std::size_t{1} << 20));
    for_each_kernel<<<blocks, threads, 0, s>>>(op, count);
    return static_cast<int>(cudaGetLastError());
}

}  // namespace flowpic::cuda::nn_device

#include "network_api_impl.hpp"
