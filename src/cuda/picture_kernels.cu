// The CUDA picture kernels: steps 1-4 of picture/kernels/scalar.hpp on the GPU, for a chunk of blocks.
//
// Shared path (small pictures, e.g. 32x32, 64x64): one thread block per picture; its counters
// (packets per cell, and downstream packets with a direction channel) live in shared memory;
// shared-memory atomics count, a block reduction finds the maximum where the counts policy needs
// it, and a second pass writes the values (dense) or compacts the non-zero cells in cell order
// with a block scan (sparse).
//
// Sort path (any size, e.g. 1500x1500): every packet gets a key (chunk-local block, cell,
// direction), a CUB radix sort groups the keys by block and cell, run starts are flagged and
// scanned, each run's extent is recorded, and one thread block per picture turns its runs into
// values, scattered into the dense pictures (filled with the background first) or written as
// sorted cells. Work is O(packets), independent of the picture's 2.25 M cells.
//
// Every per-element computation is in flowpic/cuda/picture_math.hpp, shared with the host tests.
#include <cstddef>
#include <cstdint>

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "picture_kernels.cuh"

namespace flowpic::cuda::detail {

namespace {

constexpr unsigned threads = 256;
constexpr std::size_t shared_counter_bytes = 32 * 1024;  // of the 48 KiB a block may use without opting in
constexpr unsigned max_grid = 4096;                      // grid-stride kernels

struct max_op {
    __device__ std::uint32_t operator()(std::uint32_t a, std::uint32_t b) const { return a > b ? a : b; }
};

[[nodiscard]] unsigned stride_grid(std::size_t n) {
    const std::size_t g = (n + threads - 1) / threads;
    return static_cast<unsigned>(g < max_grid ? (g ? g : 1) : max_grid);
}

// The picture's largest count over the thread block (every thread gets it).
template <class Reduce>
__device__ std::uint32_t block_max(std::uint32_t mine, Reduce& reduce, std::uint32_t& shared) {
    const std::uint32_t m = reduce.Reduce(mine, max_op{});
    if (threadIdx.x == 0) shared = m;
    __syncthreads();
    return shared;
}

template <class V>
__global__ void __launch_bounds__(threads) shared_kernel(chunk_args a) {
    extern __shared__ std::uint32_t counters[];  // cells totals, then cells downstream counts
    using block_scan = cub::BlockScan<std::uint32_t, threads>;
    using block_reduce = cub::BlockReduce<std::uint32_t, threads>;
    __shared__ union {
        typename block_scan::TempStorage scan;
        typename block_reduce::TempStorage reduce;
    } temp;
    __shared__ std::uint32_t shared_max;

    const std::uint32_t cells = a.bp.cells;
    const bool dir = math::needs_direction(a.vp.channels);
    const std::uint32_t nch = math::channel_count(a.vp.channels);
    std::uint32_t* total = counters;
    std::uint32_t* down = counters + cells;
    const std::uint32_t b = blockIdx.x;

    for (std::uint32_t c = threadIdx.x; c < cells * (dir ? 2u : 1u); c += threads) counters[c] = 0;
    __syncthreads();

    // steps 1-2: bin and count
    const std::uint32_t first = a.offsets[b], last = a.offsets[b + 1];
    const flowpic_cuda_block_time bt = a.times[b];
    for (std::uint32_t i = first + threadIdx.x; i < last; i += threads) {
        const flowpic_cuda_packet p = a.packets[i];
        const std::uint32_t cell = math::cell_of(p.time_ns, p.size, bt, a.bp, a.lut);
        if (cell < cells) {
            atomicAdd(&total[cell], 1u);
            if (dir && p.dir == 1) atomicAdd(&down[cell], 1u);
        }
    }
    __syncthreads();

    std::uint32_t mx = 0;
    if (a.vp.counts == FLOWPIC_CUDA_COUNTS_MAX_NORM) {
        std::uint32_t m = 0;
        for (std::uint32_t c = threadIdx.x; c < cells; c += threads) {
            const std::uint32_t l = math::largest(total[c], dir ? down[c] : 0u, a.vp.channels);
            m = l > m ? l : m;
        }
        block_reduce reduce(temp.reduce);
        mx = block_max(m, reduce, shared_max);  // ends with a barrier: temp may be reused
    }

    // step 4: values
    const V* table = static_cast<const V*>(a.table);
    const V* bg = static_cast<const V*>(a.background);
    if (a.output == FLOWPIC_CUDA_OUTPUT_DENSE) {
        V* out = static_cast<V*>(a.dense) + static_cast<std::size_t>(b) * nch * cells;
        for (std::uint32_t c = threadIdx.x; c < cells; c += threads) {
            const std::uint32_t t = total[c];
            V v[2] = {bg[0], nch > 1 ? bg[1] : bg[0]};
            if (t) math::cell_values<V>(t, dir ? down[c] : 0u, mx, a.vp, table, v);
            for (std::uint32_t ch = 0; ch < nch; ++ch) out[static_cast<std::size_t>(ch) * cells + c] = v[ch];
        }
    } else {
        V* values = static_cast<V*>(a.values);
        std::uint32_t written = 0;
        for (std::uint32_t base = 0; base < cells; base += threads) {
            const std::uint32_t c = base + threadIdx.x;
            const std::uint32_t t = c < cells ? total[c] : 0u;
            std::uint32_t pos = 0, count = 0;
            block_scan(temp.scan).ExclusiveSum(t ? 1u : 0u, pos, count);
            if (t) {
                const std::uint32_t at = first + written + pos;  // a block has at most one cell per packet
                V v[2];
                math::cell_values<V>(t, dir ? down[c] : 0u, mx, a.vp, table, v);
                a.cells[at] = c;
                for (std::uint32_t ch = 0; ch < nch; ++ch) values[static_cast<std::size_t>(at) * nch + ch] = v[ch];
            }
            written += count;
            __syncthreads();  // before temp.scan is used again
        }
        if (threadIdx.x == 0) a.nnz[b] = written;
    }
}

// Sort path, step 1: a key per packet.
__global__ void __launch_bounds__(threads) keys_kernel(chunk_args a, std::uint64_t* keys) {
    const std::uint32_t b = blockIdx.x;
    const std::uint32_t first = a.offsets[b], last = a.offsets[b + 1];
    const flowpic_cuda_block_time bt = a.times[b];
    for (std::uint32_t i = first + threadIdx.x; i < last; i += threads) {
        const flowpic_cuda_packet p = a.packets[i];
        const std::uint32_t cell = math::cell_of(p.time_ns, p.size, bt, a.bp, a.lut);
        keys[i] = math::make_key(b, cell, p.dir == 1, a.kp);
    }
}

// Step 3: where runs start (flags[n] = 0 closes the scan).
__global__ void __launch_bounds__(threads) flags_kernel(const std::uint64_t* sorted, std::uint32_t n, math::key_params kp,
                                                        std::uint32_t* flags) {
    const std::size_t step = static_cast<std::size_t>(gridDim.x) * threads;
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * threads + threadIdx.x; i <= n; i += step)
        flags[i] = i < n && math::run_starts(sorted, static_cast<std::uint32_t>(i), kp) ? 1u : 0u;
}

// Step 3: each run's cell and extent.
__global__ void __launch_bounds__(threads) runs_kernel(const std::uint64_t* sorted, const std::uint32_t* scan,
                                                       std::uint32_t n, math::key_params kp, math::run_arrays runs) {
    const std::size_t step = static_cast<std::size_t>(gridDim.x) * threads;
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * threads + threadIdx.x; i < n; i += step)
        math::fill_runs(sorted, scan, static_cast<std::uint32_t>(i), n, kp, runs);
}

// Step 4: a picture's runs -> values (one thread block per picture). Block b's keys sort into
// positions offsets[b] .. offsets[b + 1] - 1, so its runs are scan[offsets[b]] .. scan[offsets[b + 1]] - 1.
template <class V>
__global__ void __launch_bounds__(threads) run_values_kernel(chunk_args a, const std::uint32_t* scan, math::run_arrays runs) {
    using block_reduce = cub::BlockReduce<std::uint32_t, threads>;
    __shared__ typename block_reduce::TempStorage temp;
    __shared__ std::uint32_t shared_max;

    const std::uint32_t b = blockIdx.x;
    const std::uint32_t first = a.offsets[b], last = a.offsets[b + 1];
    const std::uint32_t r0 = scan[first], r1 = scan[last];
    const bool dir = math::needs_direction(a.vp.channels);
    const std::uint32_t nch = math::channel_count(a.vp.channels);
    const std::uint32_t cells = a.bp.cells;

    std::uint32_t mx = 0;
    if (a.vp.counts == FLOWPIC_CUDA_COUNTS_MAX_NORM) {
        std::uint32_t m = 0;
        for (std::uint32_t r = r0 + threadIdx.x; r < r1; r += threads) {
            const std::uint32_t t = runs.end[r] - runs.start[r];
            const std::uint32_t d = dir ? runs.end[r] - runs.down_from[r] : 0u;
            const std::uint32_t l = math::largest(t, d, a.vp.channels);
            m = l > m ? l : m;
        }
        block_reduce reduce(temp);
        mx = block_max(m, reduce, shared_max);
    }

    const V* table = static_cast<const V*>(a.table);
    const bool to_dense = a.output == FLOWPIC_CUDA_OUTPUT_DENSE;
    for (std::uint32_t r = r0 + threadIdx.x; r < r1; r += threads) {
        const std::uint32_t t = runs.end[r] - runs.start[r];
        const std::uint32_t d = dir ? runs.end[r] - runs.down_from[r] : 0u;
        const std::uint32_t cell = runs.cell[r];
        V v[2];
        math::cell_values<V>(t, d, mx, a.vp, table, v);
        if (to_dense) {
            V* dense = static_cast<V*>(a.dense) + static_cast<std::size_t>(b) * nch * cells;
            for (std::uint32_t ch = 0; ch < nch; ++ch) dense[static_cast<std::size_t>(ch) * cells + cell] = v[ch];
        } else {
            const std::uint32_t at = first + (r - r0);
            a.cells[at] = cell;
            V* values = static_cast<V*>(a.values);
            for (std::uint32_t ch = 0; ch < nch; ++ch) values[static_cast<std::size_t>(at) * nch + ch] = v[ch];
        }
    }
    if (a.output == FLOWPIC_CUDA_OUTPUT_SPARSE && threadIdx.x == 0) a.nnz[b] = r1 - r0;
}

// Dense pictures full of their channels' background.
template <class V>
__global__ void __launch_bounds__(threads) fill_kernel(V* out, std::size_t count, std::uint32_t cells, std::uint32_t nch,
                                                       const V* bg) {
    const std::size_t step = static_cast<std::size_t>(gridDim.x) * threads;
    for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * threads + threadIdx.x; i < count; i += step)
        out[i] = bg[(i / cells) % nch];
}

template <class V>
cudaError_t shared_path(const chunk_args& a) {
    const bool dir = math::needs_direction(a.vp.channels);
    const std::size_t smem = static_cast<std::size_t>(a.bp.cells) * (dir ? 2 : 1) * sizeof(std::uint32_t);
    shared_kernel<V><<<a.blocks, threads, smem, a.stream>>>(a);
    return cudaGetLastError();
}

template <class V>
cudaError_t sort_path(const chunk_args& a, const sort_scratch& s) {
    const std::uint32_t n = a.packet_count;
    const std::uint32_t nch = math::channel_count(a.vp.channels);
    cudaError_t e = cudaSuccess;
    if (a.output == FLOWPIC_CUDA_OUTPUT_DENSE) {
        const std::size_t count = static_cast<std::size_t>(a.blocks) * nch * a.bp.cells;
        if (a.background_zero) {
            e = cudaMemsetAsync(a.dense, 0, count * sizeof(V), a.stream);
        } else {
            fill_kernel<V><<<stride_grid(count), threads, 0, a.stream>>>(static_cast<V*>(a.dense), count, a.bp.cells, nch,
                                                                         static_cast<const V*>(a.background));
            e = cudaGetLastError();
        }
        if (e != cudaSuccess) return e;
    }
    if (n == 0) {  // no packet: empty sparse pictures, background-only dense ones
        return a.output == FLOWPIC_CUDA_OUTPUT_SPARSE
                   ? cudaMemsetAsync(a.nnz, 0, static_cast<std::size_t>(a.blocks) * sizeof(std::uint32_t), a.stream)
                   : cudaSuccess;
    }
    keys_kernel<<<a.blocks, threads, 0, a.stream>>>(a, s.keys);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    std::size_t temp = s.temp_bytes;
    const int end_bit = static_cast<int>(a.kp.key_bits + math::bits_for(a.blocks - 1));
    e = cub::DeviceRadixSort::SortKeys(s.temp, temp, s.keys, s.sorted, n, 0, end_bit, a.stream);
    if (e != cudaSuccess) return e;
    flags_kernel<<<stride_grid(std::size_t{n} + 1), threads, 0, a.stream>>>(s.sorted, n, a.kp, s.flags);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    temp = s.temp_bytes;
    e = cub::DeviceScan::ExclusiveSum(s.temp, temp, s.flags, s.scan, n + 1, a.stream);
    if (e != cudaSuccess) return e;
    runs_kernel<<<stride_grid(n), threads, 0, a.stream>>>(s.sorted, s.scan, n, a.kp, s.runs);
    if ((e = cudaGetLastError()) != cudaSuccess) return e;
    run_values_kernel<V><<<a.blocks, threads, 0, a.stream>>>(a, s.scan, s.runs);
    return cudaGetLastError();
}

constexpr std::size_t align_up(std::size_t v) { return (v + 255) / 256 * 256; }

}  // namespace

bool shared_path_fits(std::uint32_t cells, bool dir) noexcept {
    return static_cast<std::size_t>(cells) * (dir ? 2 : 1) * sizeof(std::uint32_t) <= shared_counter_bytes;
}

cudaError_t sort_scratch_bytes(std::uint32_t packets, std::uint32_t blocks, const math::key_params& kp, std::size_t* bytes,
                               std::size_t* temp_bytes) {
    // the queries take the very argument types of the calls in sort_path
    std::size_t sort = 0, scan = 0;
    const int end_bit = static_cast<int>(kp.key_bits + math::bits_for(blocks ? blocks - 1 : 0));
    std::uint64_t* keys = nullptr;
    std::uint32_t* flags = nullptr;
    cudaError_t e = cub::DeviceRadixSort::SortKeys(nullptr, sort, keys, keys, packets, 0, end_bit, cudaStream_t{});
    if (e != cudaSuccess) return e;
    e = cub::DeviceScan::ExclusiveSum(nullptr, scan, flags, flags, packets + 1, cudaStream_t{});
    if (e != cudaSuccess) return e;
    *temp_bytes = sort > scan ? sort : scan;
    const std::size_t n = packets;
    *bytes = 2 * align_up(n * 8) + 2 * align_up((n + 1) * 4) + 4 * align_up(n * 4) + align_up(*temp_bytes);
    return cudaSuccess;
}

sort_scratch carve_sort_scratch(void* base, std::uint32_t packets, std::size_t temp_bytes) noexcept {
    auto* p = static_cast<unsigned char*>(base);
    const std::size_t n = packets;
    auto take = [&p](std::size_t bytes) {
        void* q = p;
        p += align_up(bytes);
        return q;
    };
    sort_scratch s{};
    s.keys = static_cast<std::uint64_t*>(take(n * 8));
    s.sorted = static_cast<std::uint64_t*>(take(n * 8));
    s.flags = static_cast<std::uint32_t*>(take((n + 1) * 4));
    s.scan = static_cast<std::uint32_t*>(take((n + 1) * 4));
    s.runs.cell = static_cast<std::uint32_t*>(take(n * 4));
    s.runs.start = static_cast<std::uint32_t*>(take(n * 4));
    s.runs.end = static_cast<std::uint32_t*>(take(n * 4));
    s.runs.down_from = static_cast<std::uint32_t*>(take(n * 4));
    s.temp = take(temp_bytes);
    s.temp_bytes = temp_bytes;
    return s;
}

cudaError_t run_shared_path(const chunk_args& a) {
    switch (a.value_bytes) {
        case 1: return shared_path<std::uint8_t>(a);
        case 2: return shared_path<std::uint16_t>(a);
        case 4: return shared_path<std::uint32_t>(a);
        case 8: return shared_path<std::uint64_t>(a);
        default: return cudaErrorInvalidValue;
    }
}

cudaError_t run_sort_path(const chunk_args& a, const sort_scratch& s) {
    switch (a.value_bytes) {
        case 1: return sort_path<std::uint8_t>(a, s);
        case 2: return sort_path<std::uint16_t>(a, s);
        case 4: return sort_path<std::uint32_t>(a, s);
        case 8: return sort_path<std::uint64_t>(a, s);
        default: return cudaErrorInvalidValue;
    }
}

}  // namespace flowpic::cuda::detail
