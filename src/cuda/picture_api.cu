// The flowpic::cuda C API (flowpic/cuda/picture_api.hpp): contexts, slots, buffers, streams.
//
// A context holds FLOWPIC_CUDA_SLOTS slots, each a non-blocking stream with an event and its own
// pinned host and device buffers (growing, reused from chunk to chunk). A chunk's life in a
// slot: stage (the host fills pinned inputs) -> submit (upload, kernels, download queued on the
// slot's stream) -> wait (event) -> results read from pinned outputs. While one slot's chunk is
// on the GPU the host packs the next chunk into the other slot, and the copy engines upload one
// chunk while the other one's kernels or download run.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include <cuda_runtime.h>

#include "device_buffers.cuh"
#include "flowpic/cuda/error.hpp"
#include "flowpic/cuda/picture_api.hpp"
#include "flowpic/cuda/picture_math.hpp"
#include "picture_kernels.cuh"

namespace fc = flowpic::cuda;
namespace fd = flowpic::cuda::detail;

namespace {

enum class slot_state { idle, staged, submitted };

struct slot {
    cudaStream_t stream = nullptr;
    cudaEvent_t done = nullptr;
    slot_state state = slot_state::idle;
    std::size_t blocks = 0;
    std::size_t packets = 0;
    int output = FLOWPIC_CUDA_OUTPUT_DENSE;
    // pinned host memory: inputs, outputs
    fd::pinned_buffer h_packets, h_offsets, h_times;
    fd::pinned_buffer h_dense, h_nnz, h_cells, h_values;
    // device memory
    fd::device_buffer d_packets, d_offsets, d_times;
    fd::device_buffer d_dense, d_nnz, d_cells, d_values, d_scratch;
};

// Status of a CUDA call.
int status(cudaError_t e) { return static_cast<int>(e); }

}  // namespace

struct flowpic_cuda_context {
    int device = 0;
    flowpic_cuda_picture_config config{};
    std::vector<unsigned char> background;
    bool background_zero = true;
    std::uint32_t path = FLOWPIC_CUDA_PATH_SORT;
    fc::math::bin_params bp{};
    fc::math::value_params vp{};
    fc::math::key_params kp{};
    std::uint32_t channels = 1;
    fd::device_buffer d_lut, d_table, d_background;
    std::size_t table_entries = 0;
    slot slots[FLOWPIC_CUDA_SLOTS];

    ~flowpic_cuda_context() {
        cudaSetDevice(device);
        for (auto& s : slots) {
            if (s.stream) cudaStreamSynchronize(s.stream);
            if (s.done) cudaEventDestroy(s.done);
            if (s.stream) cudaStreamDestroy(s.stream);
        }
    }
};

namespace {

bool valid_config(const flowpic_cuda_picture_config& c) {
    if (c.height == 0 || c.width == 0) return false;
    const std::uint64_t cells = std::uint64_t{c.height} * c.width;
    if (cells >= (std::uint64_t{1} << 30)) return false;
    if (c.time_bins != (c.time_in_rows ? c.height : c.width)) return false;
    if (c.channels > FLOWPIC_CUDA_CHANNELS_BY_DIRECTION || c.counts > FLOWPIC_CUDA_COUNTS_MAX_NORM) return false;
    if (c.value_bytes != 1 && c.value_bytes != 2 && c.value_bytes != 4 && c.value_bytes != 8) return false;
    if (c.value_float > FLOWPIC_CUDA_FLOAT_F64) return false;
    if (c.value_float == FLOWPIC_CUDA_FLOAT_F32 && c.value_bytes != 4) return false;
    if (c.value_float == FLOWPIC_CUDA_FLOAT_F64 && c.value_bytes != 8) return false;
    const bool computes = c.counts == FLOWPIC_CUDA_COUNTS_MAX_NORM || c.channels == FLOWPIC_CUDA_CHANNELS_DOWNLOAD_FRACTION;
    if (computes && c.value_float == FLOWPIC_CUDA_FLOAT_NONE) return false;
    if (c.clock_quantum_ns < 1 || c.clock_rounding > FLOWPIC_CUDA_ROUND_HALF_AWAY) return false;
    if (!c.size_lut || c.size_lut_length < 2 || !c.background) return false;
    if (c.path > FLOWPIC_CUDA_PATH_SORT) return false;
    const std::int32_t size_bins = static_cast<std::int32_t>(c.time_in_rows ? c.width : c.height);
    for (std::uint32_t i = 0; i < c.size_lut_length; ++i)  // a size bin beyond the picture would write outside it
        if (c.size_lut[i] < -1 || c.size_lut[i] >= size_bins) return false;
    return true;
}

// Every later call acts on the context's device.
int use_device(const flowpic_cuda_context* ctx) { return status(cudaSetDevice(ctx->device)); }

// Sizes of a staged chunk's outputs.
std::size_t dense_bytes(const flowpic_cuda_context* ctx, std::size_t blocks) {
    return blocks * ctx->channels * ctx->bp.cells * ctx->config.value_bytes;
}

// max(bytes, 1): a buffer that is never empty, so its pointer is never null.
std::size_t at_least_one(std::size_t bytes) { return bytes ? bytes : 1; }

// A synchronous upload that is complete on return. (cudaMemcpy from pageable memory may return
// before its DMA lands, and the slots' non-blocking streams do not wait for the legacy stream.)
cudaError_t upload(const flowpic_cuda_context* ctx, void* dst, const void* src, std::size_t bytes) {
    const cudaStream_t s = ctx->slots[0].stream;
    const cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s);
    return e != cudaSuccess ? e : cudaStreamSynchronize(s);
}

}  // namespace

extern "C" {

int flowpic_cuda_device_count(int* count) {
    if (!count) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    *count = 0;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();  // do not leave the failure for the next call to report
        return status(e);
    }
    *count = n;
    return FLOWPIC_CUDA_SUCCESS;
}

int flowpic_cuda_device_name(int device, char* name, std::size_t length) {
    if (!name || length == 0) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    name[0] = '\0';
    cudaDeviceProp prop{};
    const cudaError_t e = cudaGetDeviceProperties(&prop, device);
    if (e != cudaSuccess) return status(e);
    std::strncpy(name, prop.name, length - 1);
    name[length - 1] = '\0';
    return FLOWPIC_CUDA_SUCCESS;
}

const char* flowpic_cuda_error_string(int s) {
    if (s > 0) return cudaGetErrorString(static_cast<cudaError_t>(s));
    return fc::status_text(s);  // never null for s <= 0
}

int flowpic_cuda_create(const flowpic_cuda_picture_config* config, flowpic_cuda_context** context) {
    if (!config || !context) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    *context = nullptr;
    if (!valid_config(*config)) return FLOWPIC_CUDA_INVALID_ARGUMENT;

    int count = 0;
    if (const int s = flowpic_cuda_device_count(&count); s != FLOWPIC_CUDA_SUCCESS) return s;
    if (count == 0) return FLOWPIC_CUDA_NO_DEVICE;
    int device = config->device;
    if (device < 0) {
        if (const cudaError_t e = cudaGetDevice(&device); e != cudaSuccess) return status(e);
    }
    if (device >= count) return FLOWPIC_CUDA_INVALID_ARGUMENT;

    auto* ctx = new (std::nothrow) flowpic_cuda_context;
    if (!ctx) return status(cudaErrorMemoryAllocation);
    ctx->device = device;
    ctx->config = *config;
    ctx->config.size_lut = nullptr;  // copied to the device below; the caller's arrays are not kept
    ctx->config.background = nullptr;
    ctx->channels = fc::math::channel_count(config->channels);
    ctx->bp = fc::math::make_bin_params(*config);
    ctx->vp = fc::math::make_value_params(*config);
    const bool dir = fc::math::needs_direction(config->channels);
    ctx->kp = fc::math::make_key_params(ctx->bp.cells, dir);
    const bool fits = fd::shared_path_fits(ctx->bp.cells, dir);
    if (config->path == FLOWPIC_CUDA_PATH_SHARED && !fits) {
        delete ctx;
        return FLOWPIC_CUDA_UNSUPPORTED;
    }
    ctx->path = config->path == FLOWPIC_CUDA_PATH_AUTO
                    ? static_cast<std::uint32_t>(fits ? FLOWPIC_CUDA_PATH_SHARED : FLOWPIC_CUDA_PATH_SORT)
                    : config->path;
    const std::size_t bg_bytes = std::size_t{ctx->channels} * config->value_bytes;
    const auto* bg = static_cast<const unsigned char*>(config->background);
    ctx->background.assign(bg, bg + bg_bytes);
    for (unsigned char byte : ctx->background) ctx->background_zero = ctx->background_zero && byte == 0;

    auto fail = [ctx](int s) {
        delete ctx;
        return s;
    };
    if (const int s = use_device(ctx); s) return fail(s);
    for (auto& s : ctx->slots) {
        if (const cudaError_t e = cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking); e != cudaSuccess) return fail(status(e));
        if (const cudaError_t e = cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming); e != cudaSuccess) return fail(status(e));
    }
    const std::size_t lut_bytes = std::size_t{config->size_lut_length} * sizeof(std::int32_t);
    if (const cudaError_t e = ctx->d_lut.reserve(lut_bytes); e != cudaSuccess) return fail(status(e));
    if (const cudaError_t e = upload(ctx, ctx->d_lut.data(), config->size_lut, lut_bytes); e != cudaSuccess) return fail(status(e));
    if (const cudaError_t e = ctx->d_background.reserve(bg_bytes); e != cudaSuccess) return fail(status(e));
    if (const cudaError_t e = upload(ctx, ctx->d_background.data(), bg, bg_bytes); e != cudaSuccess) return fail(status(e));
    *context = ctx;
    return FLOWPIC_CUDA_SUCCESS;
}

void flowpic_cuda_destroy(flowpic_cuda_context* context) { delete context; }

int flowpic_cuda_path_of(const flowpic_cuda_context* context, std::uint32_t* path) {
    if (!context || !path) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    *path = context->path;
    return FLOWPIC_CUDA_SUCCESS;
}

int flowpic_cuda_reset(flowpic_cuda_context* context) {
    if (!context) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    int first = use_device(context);
    for (auto& s : context->slots) {
        if (s.state == slot_state::submitted) {
            const cudaError_t e = cudaStreamSynchronize(s.stream);
            if (e != cudaSuccess && !first) first = status(e);
        }
        s.state = slot_state::idle;
    }
    return first;
}

int flowpic_cuda_set_table(flowpic_cuda_context* ctx, const void* values, std::size_t entries) {
    if (!ctx || !values || entries == 0) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (ctx->config.counts != FLOWPIC_CUDA_COUNTS_TABLE) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (const int s = use_device(ctx); s) return s;
    for (auto& s : ctx->slots)  // kernels in flight may read the old table
        if (s.state == slot_state::submitted)
            if (const cudaError_t e = cudaStreamSynchronize(s.stream); e != cudaSuccess) return status(e);
    const std::size_t bytes = entries * ctx->config.value_bytes;
    if (const cudaError_t e = ctx->d_table.reserve(bytes); e != cudaSuccess) {
        ctx->table_entries = 0;
        return status(e);
    }
    if (const cudaError_t e = upload(ctx, ctx->d_table.data(), values, bytes); e != cudaSuccess) {
        ctx->table_entries = 0;
        return status(e);
    }
    ctx->table_entries = entries;
    return FLOWPIC_CUDA_SUCCESS;
}

int flowpic_cuda_stage(flowpic_cuda_context* ctx, unsigned slot_index, std::size_t blocks, std::size_t packets,
                       flowpic_cuda_staging* staging) {
    if (!ctx || !staging || slot_index >= FLOWPIC_CUDA_SLOTS || blocks == 0) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    // 32-bit packet indices with room for grid-stride loops; a grid of at most 2^31 - 1 blocks
    constexpr std::size_t limit = std::numeric_limits<std::int32_t>::max();
    if (packets >= limit || blocks >= limit) return FLOWPIC_CUDA_TOO_LARGE;
    slot& s = ctx->slots[slot_index];
    if (s.state == slot_state::submitted) return FLOWPIC_CUDA_BAD_STATE;
    if (const int st = use_device(ctx); st) return st;
    if (const cudaError_t e = s.h_packets.reserve(at_least_one(packets * sizeof(flowpic_cuda_packet))); e != cudaSuccess)
        return status(e);
    if (const cudaError_t e = s.h_offsets.reserve((blocks + 1) * sizeof(std::uint32_t)); e != cudaSuccess) return status(e);
    if (const cudaError_t e = s.h_times.reserve(blocks * sizeof(flowpic_cuda_block_time)); e != cudaSuccess) return status(e);
    staging->packets = s.h_packets.as<flowpic_cuda_packet>();
    staging->offsets = s.h_offsets.as<std::uint32_t>();
    staging->times = s.h_times.as<flowpic_cuda_block_time>();
    s.blocks = blocks;
    s.packets = packets;
    s.state = slot_state::staged;
    return FLOWPIC_CUDA_SUCCESS;
}

namespace {

// Allocations, upload, kernels and download of a staged chunk, queued on the slot's stream.
int enqueue(flowpic_cuda_context* ctx, slot& s, int output) {
    const std::size_t blocks = s.blocks, packets = s.packets;
    const std::uint32_t nch = ctx->channels;
    const std::size_t vb = ctx->config.value_bytes;
    const bool sparse = output == FLOWPIC_CUDA_OUTPUT_SPARSE;
    const bool on_device = output == FLOWPIC_CUDA_OUTPUT_DEVICE_DENSE;  // no download, no pinned copy

    // buffers: inputs, outputs (device and pinned), scratch
    const std::size_t packet_bytes = packets * sizeof(flowpic_cuda_packet);
    const std::size_t offset_bytes = (blocks + 1) * sizeof(std::uint32_t);
    const std::size_t time_bytes = blocks * sizeof(flowpic_cuda_block_time);
    cudaError_t e = cudaSuccess;
    if ((e = s.d_packets.reserve(at_least_one(packet_bytes))) != cudaSuccess) return status(e);
    if ((e = s.d_offsets.reserve(offset_bytes)) != cudaSuccess) return status(e);
    if ((e = s.d_times.reserve(time_bytes)) != cudaSuccess) return status(e);
    const std::size_t dense = sparse ? 0 : dense_bytes(ctx, blocks);
    const std::size_t nnz = sparse ? blocks * sizeof(std::uint32_t) : 0;
    const std::size_t cells = sparse ? packets * sizeof(std::uint32_t) : 0;
    const std::size_t values = sparse ? packets * nch * vb : 0;
    if (!sparse) {
        if ((e = s.d_dense.reserve(dense)) != cudaSuccess) return status(e);
        if (!on_device && (e = s.h_dense.reserve(dense)) != cudaSuccess) return status(e);
    } else {
        if ((e = s.d_nnz.reserve(nnz)) != cudaSuccess) return status(e);
        if ((e = s.h_nnz.reserve(nnz)) != cudaSuccess) return status(e);
        if ((e = s.d_cells.reserve(at_least_one(cells))) != cudaSuccess) return status(e);
        if ((e = s.h_cells.reserve(at_least_one(cells))) != cudaSuccess) return status(e);
        if ((e = s.d_values.reserve(at_least_one(values))) != cudaSuccess) return status(e);
        if ((e = s.h_values.reserve(at_least_one(values))) != cudaSuccess) return status(e);
    }
    fd::sort_scratch scratch{};
    const bool sort = ctx->path == FLOWPIC_CUDA_PATH_SORT;
    if (sort && packets) {
        std::size_t bytes = 0, temp = 0;
        if ((e = fd::sort_scratch_bytes(static_cast<std::uint32_t>(packets), static_cast<std::uint32_t>(blocks), ctx->kp, &bytes,
                                        &temp)) != cudaSuccess)
            return status(e);
        if ((e = s.d_scratch.reserve(bytes)) != cudaSuccess) return status(e);
        scratch = fd::carve_sort_scratch(s.d_scratch.data(), static_cast<std::uint32_t>(packets), temp);
    }

    // upload
    if (packet_bytes && (e = cudaMemcpyAsync(s.d_packets.data(), s.h_packets.data(), packet_bytes, cudaMemcpyHostToDevice,
                                             s.stream)) != cudaSuccess)
        return status(e);
    if ((e = cudaMemcpyAsync(s.d_offsets.data(), s.h_offsets.data(), offset_bytes, cudaMemcpyHostToDevice, s.stream)) != cudaSuccess)
        return status(e);
    if ((e = cudaMemcpyAsync(s.d_times.data(), s.h_times.data(), time_bytes, cudaMemcpyHostToDevice, s.stream)) != cudaSuccess)
        return status(e);

    // kernels
    fd::chunk_args a{};
    a.packets = s.d_packets.as<const flowpic_cuda_packet>();
    a.offsets = s.d_offsets.as<const std::uint32_t>();
    a.times = s.d_times.as<const flowpic_cuda_block_time>();
    a.blocks = static_cast<std::uint32_t>(blocks);
    a.packet_count = static_cast<std::uint32_t>(packets);
    a.lut = ctx->d_lut.as<const std::int32_t>();
    a.table = ctx->d_table.data();
    a.background = ctx->d_background.data();
    a.background_zero = ctx->background_zero;
    a.bp = ctx->bp;
    a.vp = ctx->vp;
    a.kp = ctx->kp;
    a.value_bytes = static_cast<std::uint32_t>(vb);
    a.output = sparse ? FLOWPIC_CUDA_OUTPUT_SPARSE : FLOWPIC_CUDA_OUTPUT_DENSE;  // the kernels' view
    a.dense = sparse ? nullptr : s.d_dense.data();
    a.nnz = sparse ? s.d_nnz.as<std::uint32_t>() : nullptr;
    a.cells = sparse ? s.d_cells.as<std::uint32_t>() : nullptr;
    a.values = sparse ? s.d_values.data() : nullptr;
    a.stream = s.stream;
    if ((e = sort ? fd::run_sort_path(a, scratch) : fd::run_shared_path(a)) != cudaSuccess) return status(e);

    // download
    if (on_device) {
        // the pictures stay in d_dense for the caller's kernels
    } else if (!sparse) {
        if ((e = cudaMemcpyAsync(s.h_dense.data(), s.d_dense.data(), dense, cudaMemcpyDeviceToHost, s.stream)) != cudaSuccess)
            return status(e);
    } else {
        if ((e = cudaMemcpyAsync(s.h_nnz.data(), s.d_nnz.data(), nnz, cudaMemcpyDeviceToHost, s.stream)) != cudaSuccess)
            return status(e);
        if (cells && (e = cudaMemcpyAsync(s.h_cells.data(), s.d_cells.data(), cells, cudaMemcpyDeviceToHost, s.stream)) != cudaSuccess)
            return status(e);
        if (values &&
            (e = cudaMemcpyAsync(s.h_values.data(), s.d_values.data(), values, cudaMemcpyDeviceToHost, s.stream)) != cudaSuccess)
            return status(e);
    }
    if ((e = cudaEventRecord(s.done, s.stream)) != cudaSuccess) return status(e);
    return FLOWPIC_CUDA_SUCCESS;
}

}  // namespace

int flowpic_cuda_submit(flowpic_cuda_context* ctx, unsigned slot_index, int output) {
    if (!ctx || slot_index >= FLOWPIC_CUDA_SLOTS) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (output != FLOWPIC_CUDA_OUTPUT_DENSE && output != FLOWPIC_CUDA_OUTPUT_SPARSE &&
        output != FLOWPIC_CUDA_OUTPUT_DEVICE_DENSE)
        return FLOWPIC_CUDA_INVALID_ARGUMENT;
    slot& s = ctx->slots[slot_index];
    if (s.state != slot_state::staged) return FLOWPIC_CUDA_BAD_STATE;

    // the staged offsets must describe the staged packets: the kernels trust them
    const std::uint32_t* off = s.h_offsets.as<const std::uint32_t>();
    if (off[0] != 0 || off[s.blocks] != s.packets) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    std::uint32_t largest = 0;
    for (std::size_t b = 0; b < s.blocks; ++b) {
        if (off[b + 1] < off[b]) return FLOWPIC_CUDA_INVALID_ARGUMENT;
        largest = off[b + 1] - off[b] > largest ? off[b + 1] - off[b] : largest;
    }
    if (ctx->config.counts == FLOWPIC_CUDA_COUNTS_TABLE && largest > 0 && largest >= ctx->table_entries)
        return FLOWPIC_CUDA_TABLE_TOO_SMALL;

    if (const int st = use_device(ctx); st) return st;
    const int st = enqueue(ctx, s, output);
    if (st != FLOWPIC_CUDA_SUCCESS) {
        cudaStreamSynchronize(s.stream);  // let whatever was queued finish before buffers are touched again
        cudaGetLastError();
        s.state = slot_state::staged;
        return st;
    }
    s.output = output;
    s.state = slot_state::submitted;
    return FLOWPIC_CUDA_SUCCESS;
}

int flowpic_cuda_wait(flowpic_cuda_context* ctx, unsigned slot_index, flowpic_cuda_result* result) {
    if (!ctx || !result || slot_index >= FLOWPIC_CUDA_SLOTS) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    slot& s = ctx->slots[slot_index];
    if (s.state != slot_state::submitted) return FLOWPIC_CUDA_BAD_STATE;
    if (const int st = use_device(ctx); st) return st;
    const cudaError_t e = cudaEventSynchronize(s.done);
    s.state = slot_state::idle;
    if (e != cudaSuccess) return status(e);
    const bool sparse = s.output == FLOWPIC_CUDA_OUTPUT_SPARSE;
    *result = flowpic_cuda_result{};
    result->blocks = s.blocks;
    result->packets = s.packets;
    result->output = s.output;
    const bool on_device = s.output == FLOWPIC_CUDA_OUTPUT_DEVICE_DENSE;
    result->dense = sparse || on_device ? nullptr : s.h_dense.data();
    result->device_dense = on_device ? s.d_dense.data() : nullptr;
    result->offsets = s.h_offsets.as<const std::uint32_t>();
    result->nnz = sparse ? s.h_nnz.as<const std::uint32_t>() : nullptr;
    result->cells = sparse ? s.h_cells.as<const std::uint32_t>() : nullptr;
    result->values = sparse ? s.h_values.data() : nullptr;
    return FLOWPIC_CUDA_SUCCESS;
}

}  // extern "C"
