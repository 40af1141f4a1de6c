#pragma once
// The raw-pointer API of the compiled component flowpic::cuda: FlowPic pictures of many blocks
// per transfer on a CUDA GPU. Plain C structs and functions with C linkage; no CUDA header, no
// exception, no template crosses this boundary. Every function returns a status: 0 on success,
// a cudaError_t value (> 0) when the CUDA runtime failed, or one of flowpic's codes (< 0).
//
// C++ users want picture::cuda_maker (flowpic/picture/kernels/cuda.hpp), which derives every
// parameter below from the picture policies and turns statuses into flowpic::cuda::error.
//
// The work is split into chunks of blocks, each chunk in one of FLOWPIC_CUDA_SLOTS slots (a CUDA
// stream with its own pinned and device buffers), so that the host packs chunk k + 1 while chunk
// k is uploaded, binned and downloaded:
//
//   flowpic_cuda_stage(ctx, s, blocks, packets, &st);   // pinned input buffers of slot s
//   ... write st.packets, st.offsets, st.times ...
//   flowpic_cuda_submit(ctx, s, FLOWPIC_CUDA_OUTPUT_DENSE);   // upload, kernels, download: async
//   flowpic_cuda_wait(ctx, s, &result);                  // the pictures, in pinned host memory
//
// A chunk holds the packet records of its blocks back to back; block b owns the records
// offsets[b] .. offsets[b + 1] - 1 and its time-axis constants times[b] (picture::time_params,
// computed on the host by picture::prepare_time, so that the GPU evaluates the same formula with
// the same constants as the scalar kernel).

#include <cstddef>
#include <cstdint>

extern "C" {

// ---- statuses ------------------------------------------------------------------------------
enum flowpic_cuda_status {
    FLOWPIC_CUDA_SUCCESS = 0,
    FLOWPIC_CUDA_INVALID_ARGUMENT = -1,  // a null pointer, an unknown enum value, inconsistent sizes
    FLOWPIC_CUDA_UNSUPPORTED = -2,       // a picture configuration the kernels do not implement
    FLOWPIC_CUDA_TOO_LARGE = -3,         // a chunk beyond the kernels' 32-bit packet index range
    FLOWPIC_CUDA_BAD_STATE = -4,         // a slot used out of order (submit before stage, wait on an idle slot)
    FLOWPIC_CUDA_TABLE_TOO_SMALL = -5,   // a block has more packets than the value table covers
    FLOWPIC_CUDA_NO_DEVICE = -6,         // the runtime works but sees no CUDA device
};

// ---- picture parameters (the picture policies as plain values) -----------------------------
enum flowpic_cuda_channels {
    FLOWPIC_CUDA_CHANNELS_COUNTS = 0,             // channels::counts
    FLOWPIC_CUDA_CHANNELS_DOWNLOAD_FRACTION = 1,  // channels::download_fraction
    FLOWPIC_CUDA_CHANNELS_BY_DIRECTION = 2,       // channels::by_direction
};
enum flowpic_cuda_counts {
    FLOWPIC_CUDA_COUNTS_TABLE = 0,     // value of count c = table[c], computed on the host by the counts policy
    FLOWPIC_CUDA_COUNTS_MAX_NORM = 1,  // count / largest count of the picture, in float64 (counts::max_norm)
};
enum flowpic_cuda_float {
    FLOWPIC_CUDA_FLOAT_NONE = 0,  // the value type is not computed on the device (table values only)
    FLOWPIC_CUDA_FLOAT_F32 = 1,   // float64 results rounded to float
    FLOWPIC_CUDA_FLOAT_F64 = 2,
};
enum flowpic_cuda_rounding {
    FLOWPIC_CUDA_ROUND_FLOOR = 0,      // picture::rounding::floor
    FLOWPIC_CUDA_ROUND_HALF_AWAY = 1,  // picture::rounding::half_away
};
enum flowpic_cuda_path {
    FLOWPIC_CUDA_PATH_AUTO = 0,    // shared memory when the picture's counters fit, else sort
    FLOWPIC_CUDA_PATH_SHARED = 1,  // one thread block per picture, counters in shared memory (small pictures)
    FLOWPIC_CUDA_PATH_SORT = 2,    // radix sort of (block, cell) keys, then runs (any size)
};
enum flowpic_cuda_output {
    FLOWPIC_CUDA_OUTPUT_DENSE = 0,   // [blocks, channels, height, width] values
    FLOWPIC_CUDA_OUTPUT_SPARSE = 1,  // per block: sorted non-zero cells and their values
    FLOWPIC_CUDA_OUTPUT_DEVICE_DENSE = 2,  // dense, left in device memory for the caller's kernels (the network)
};

enum { FLOWPIC_CUDA_SLOTS = 2 };

// One packet record: flowpic::packet's layout (16 bytes; dir 1 = direction::reverse).
struct flowpic_cuda_packet {
    std::int64_t time_ns;
    std::uint32_t size;
    std::uint8_t dir;
    std::uint8_t reserved[3];
};

// A block's time-axis constants: picture::time_params' origin, x0 and span.
struct flowpic_cuda_block_time {
    std::int64_t origin;
    double x0;
    double span;
};

struct flowpic_cuda_picture_config {
    std::uint32_t height;         // rows
    std::uint32_t width;          // columns
    std::uint32_t time_in_rows;   // 1: rows are time (orientation::time_rows)
    std::uint32_t time_bins;      // bins of the time axis (height or width)
    std::uint32_t channels;       // flowpic_cuda_channels
    std::uint32_t counts;         // flowpic_cuda_counts
    std::uint32_t value_bytes;    // sizeof(value_type): 1, 2, 4 or 8
    std::uint32_t value_float;    // flowpic_cuda_float: how computed values (max_norm, download fraction) are stored
    std::int64_t clock_quantum_ns;
    std::uint32_t clock_rounding;  // flowpic_cuda_rounding
    std::uint32_t clock_divides;   // 0: the clock's divisor is 1 (no division)
    double clock_divisor;
    std::uint32_t open_end;         // 1: window_end::open
    std::uint32_t size_lut_length;  // entries of size_lut: the size axis' max_size + 2
    const std::int32_t* size_lut;   // size bin of sizes 0..max_size, then of every larger size; -1 = dropped (copied)
    const void* background;         // one value per channel, value_bytes each (copied)
    std::uint32_t path;             // flowpic_cuda_path
    std::int32_t device;            // CUDA device ordinal; -1: the calling thread's current device
};

// Pinned host buffers of a staged slot, to be filled before flowpic_cuda_submit.
struct flowpic_cuda_staging {
    flowpic_cuda_packet* packets;    // the packets of every block, back to back
    std::uint32_t* offsets;          // blocks + 1 entries: offsets[0] = 0, offsets[blocks] = packets
    flowpic_cuda_block_time* times;  // blocks entries
};

// A finished slot's pictures, in pinned host memory owned by the context: valid until the slot
// is staged again (or the context destroyed).
struct flowpic_cuda_result {
    std::size_t blocks;
    std::size_t packets;
    int output;                     // flowpic_cuda_output
    const void* dense;              // dense: blocks x channels x height x width values
    const std::uint32_t* offsets;   // sparse: block b's cells start at index offsets[b] (its first packet)
    const std::uint32_t* nnz;       // sparse: non-zero cells of block b
    const std::uint32_t* cells;     // sparse: flat cell indices, sorted within each block
    const void* values;             // sparse: channels values per cell, cell-major (index i: values at i * channels)
    const void* device_dense;       // device dense: the [blocks, C, H, W] values in device memory; valid until the
                                    // slot is staged again, so work that reads them must finish before that
};

struct flowpic_cuda_context;

// ---- functions -----------------------------------------------------------------------------

// CUDA devices visible to the runtime (the status is the runtime's error where there is no driver).
int flowpic_cuda_device_count(int* count);
// The device's name, NUL-terminated and cut to `length` bytes.
int flowpic_cuda_device_name(int device, char* name, std::size_t length);
// Text of a status: cudaGetErrorString for the runtime's, flowpic's own otherwise. Never null.
const char* flowpic_cuda_error_string(int status);

// A context for one picture configuration: streams, events, growing pinned and device buffers.
int flowpic_cuda_create(const flowpic_cuda_picture_config* config, flowpic_cuda_context** context);
// Waits for work in flight and frees everything (null is allowed).
void flowpic_cuda_destroy(flowpic_cuda_context* context);
// The path the context runs (FLOWPIC_CUDA_PATH_SHARED or FLOWPIC_CUDA_PATH_SORT).
int flowpic_cuda_path_of(const flowpic_cuda_context* context, std::uint32_t* path);

// The table of FLOWPIC_CUDA_COUNTS_TABLE: the value of counts 0 .. entries - 1 (value_bytes
// each). Must cover the largest block of every chunk submitted later; replacing it waits for the
// slots in flight.
int flowpic_cuda_set_table(flowpic_cuda_context* context, const void* values, std::size_t entries);

// Makes slot `slot` (an idle one) ready for a chunk of `blocks` blocks and `packets` packets and
// hands out its pinned input buffers.
int flowpic_cuda_stage(flowpic_cuda_context* context, unsigned slot, std::size_t blocks, std::size_t packets,
                       flowpic_cuda_staging* staging);
// Queues the staged chunk on the slot's stream: upload, kernels, download (returns at once).
int flowpic_cuda_submit(flowpic_cuda_context* context, unsigned slot, int output);
// Waits for the slot's chunk and hands out its pictures; the slot is idle again.
int flowpic_cuda_wait(flowpic_cuda_context* context, unsigned slot, flowpic_cuda_result* result);
// Waits for every slot in flight and drops its results (after an exception, say).
int flowpic_cuda_reset(flowpic_cuda_context* context);

}  // extern "C"
