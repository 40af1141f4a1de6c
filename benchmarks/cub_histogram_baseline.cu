// cub::DeviceHistogram::HistogramEven as a baseline for flowpic's picture kernels
// (cub_histogram_baseline.hpp).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <cub/device/device_histogram.cuh>
#include <cuda_runtime.h>

#include "cub_histogram_baseline.hpp"
#include "flowpic/cuda/picture_math.hpp"

namespace math = flowpic::cuda::math;

namespace {

struct buffer {
    void* p = nullptr;
    std::size_t cap = 0;
    bool pinned = false;
    cudaError_t reserve(std::size_t bytes) {
        if (bytes <= cap) return cudaSuccess;
        release();
        const cudaError_t e = pinned ? cudaMallocHost(&p, bytes) : cudaMalloc(&p, bytes);
        if (e == cudaSuccess) cap = bytes;
        else p = nullptr;
        return e;
    }
    void release() {
        if (p) pinned ? cudaFreeHost(p) : cudaFree(p);
        p = nullptr;
        cap = 0;
    }
};

constexpr unsigned threads = 256;

__global__ void __launch_bounds__(threads) linear_bins(const flowpic_cuda_packet* packets, const std::uint32_t* offsets,
                                                       const flowpic_cuda_block_time* times, const std::int32_t* lut,
                                                       math::bin_params bp, int* samples) {
    const std::uint32_t b = blockIdx.x;
    const flowpic_cuda_block_time bt = times[b];
    for (std::uint32_t i = offsets[b] + threadIdx.x; i < offsets[b + 1]; i += threads) {
        const flowpic_cuda_packet p = packets[i];
        const std::uint32_t cell = math::cell_of(p.time_ns, p.size, bt, bp, lut);
        samples[i] = cell < bp.cells ? static_cast<int>(b * bp.cells + cell) : -1;  // -1: outside every bin
    }
}

}  // namespace

struct cub_baseline {
    math::bin_params bp{};
    cudaStream_t stream = nullptr;
    buffer lut, d_packets, d_offsets, d_times, samples, hist, temp;
    buffer h_packets{nullptr, 0, true}, h_offsets{nullptr, 0, true}, h_times{nullptr, 0, true}, h_hist{nullptr, 0, true};
    std::size_t blocks = 0, packets = 0;
    ~cub_baseline() {
        if (stream) cudaStreamSynchronize(stream);
        for (buffer* x : {&lut, &d_packets, &d_offsets, &d_times, &samples, &hist, &temp, &h_packets, &h_offsets, &h_times, &h_hist})
            x->release();
        if (stream) cudaStreamDestroy(stream);
    }
};

int cub_baseline_create(const flowpic_cuda_picture_config* config, cub_baseline** out) {
    if (!config || !out || !config->size_lut) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    auto* b = new cub_baseline;
    b->bp = math::make_bin_params(*config);
    cudaError_t e = cudaStreamCreateWithFlags(&b->stream, cudaStreamNonBlocking);
    const std::size_t lut_bytes = config->size_lut_length * sizeof(std::int32_t);
    if (e == cudaSuccess) e = b->lut.reserve(lut_bytes);
    if (e == cudaSuccess) e = cudaMemcpyAsync(b->lut.p, config->size_lut, lut_bytes, cudaMemcpyHostToDevice, b->stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(b->stream);
    if (e != cudaSuccess) {
        delete b;
        return static_cast<int>(e);
    }
    *out = b;
    return FLOWPIC_CUDA_SUCCESS;
}

void cub_baseline_destroy(cub_baseline* b) { delete b; }

int cub_baseline_stage(cub_baseline* b, std::size_t blocks, std::size_t packets, flowpic_cuda_staging* st) {
    if (!b || !st || blocks == 0) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (blocks * b->bp.cells + 1 > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        packets > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return FLOWPIC_CUDA_TOO_LARGE;
    cudaError_t e = b->h_packets.reserve(packets * sizeof(flowpic_cuda_packet) + 1);
    if (e == cudaSuccess) e = b->h_offsets.reserve((blocks + 1) * sizeof(std::uint32_t));
    if (e == cudaSuccess) e = b->h_times.reserve(blocks * sizeof(flowpic_cuda_block_time));
    if (e != cudaSuccess) return static_cast<int>(e);
    st->packets = static_cast<flowpic_cuda_packet*>(b->h_packets.p);
    st->offsets = static_cast<std::uint32_t*>(b->h_offsets.p);
    st->times = static_cast<flowpic_cuda_block_time*>(b->h_times.p);
    b->blocks = blocks;
    b->packets = packets;
    return FLOWPIC_CUDA_SUCCESS;
}

int cub_baseline_run(cub_baseline* b, const std::uint32_t** counts) {
    if (!b || !counts || b->blocks == 0) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    const std::size_t n = b->packets, nb = b->blocks;
    const int bins = static_cast<int>(nb * b->bp.cells);
    std::size_t temp_bytes = 0;
    cudaError_t e = cub::DeviceHistogram::HistogramEven(nullptr, temp_bytes, static_cast<const int*>(nullptr),
                                                        static_cast<unsigned*>(nullptr), bins + 1, 0, bins, static_cast<int>(n),
                                                        b->stream);
    if (e == cudaSuccess) e = b->d_packets.reserve(n * sizeof(flowpic_cuda_packet) + 1);
    if (e == cudaSuccess) e = b->d_offsets.reserve((nb + 1) * sizeof(std::uint32_t));
    if (e == cudaSuccess) e = b->d_times.reserve(nb * sizeof(flowpic_cuda_block_time));
    if (e == cudaSuccess) e = b->samples.reserve(n * sizeof(int) + 1);
    if (e == cudaSuccess) e = b->hist.reserve(static_cast<std::size_t>(bins) * sizeof(unsigned));
    if (e == cudaSuccess) e = b->h_hist.reserve(static_cast<std::size_t>(bins) * sizeof(unsigned));
    if (e == cudaSuccess) e = b->temp.reserve(temp_bytes + 1);
    if (e == cudaSuccess) e = cudaMemcpyAsync(b->d_packets.p, b->h_packets.p, n * sizeof(flowpic_cuda_packet), cudaMemcpyHostToDevice, b->stream);
    if (e == cudaSuccess) e = cudaMemcpyAsync(b->d_offsets.p, b->h_offsets.p, (nb + 1) * sizeof(std::uint32_t), cudaMemcpyHostToDevice, b->stream);
    if (e == cudaSuccess) e = cudaMemcpyAsync(b->d_times.p, b->h_times.p, nb * sizeof(flowpic_cuda_block_time), cudaMemcpyHostToDevice, b->stream);
    if (e != cudaSuccess) return static_cast<int>(e);
    if (n) {
        linear_bins<<<static_cast<unsigned>(nb), threads, 0, b->stream>>>(
            static_cast<const flowpic_cuda_packet*>(b->d_packets.p), static_cast<const std::uint32_t*>(b->d_offsets.p),
            static_cast<const flowpic_cuda_block_time*>(b->d_times.p), static_cast<const std::int32_t*>(b->lut.p), b->bp,
            static_cast<int*>(b->samples.p));
        if ((e = cudaGetLastError()) != cudaSuccess) return static_cast<int>(e);
    }
    temp_bytes = b->temp.cap;
    e = cub::DeviceHistogram::HistogramEven(b->temp.p, temp_bytes, static_cast<const int*>(b->samples.p),
                                            static_cast<unsigned*>(b->hist.p), bins + 1, 0, bins, static_cast<int>(n), b->stream);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(b->h_hist.p, b->hist.p, static_cast<std::size_t>(bins) * sizeof(unsigned), cudaMemcpyDeviceToHost, b->stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(b->stream);
    if (e != cudaSuccess) return static_cast<int>(e);
    *counts = static_cast<const std::uint32_t*>(b->h_hist.p);
    return FLOWPIC_CUDA_SUCCESS;
}
