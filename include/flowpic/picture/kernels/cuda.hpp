#pragma once
// backend::cuda: the pictures of many blocks on a CUDA GPU, equal to the scalar kernel bit for
// bit. Needs the compiled component flowpic::cuda (CMake: target_link_libraries(app PRIVATE
// flowpic::cuda), which also defines FLOWPIC_HAS_CUDA=1); this header itself holds no CUDA.
//
//   picture::cuda_maker<P::picture> gpu;                      // one GPU context: streams, buffers
//   auto stack = gpu.make_sparse_stack(workload.blocks());   // sparse pictures of every block
//   gpu.for_each_dense_chunk(blocks, [&](std::size_t first, std::size_t count, std::span<const T> nchw) {
//       ... count dense pictures [count, C, H, W], valid during the call ...
//   });
//   picture::make_sparse_stack<P::picture, backend::cuda>(blocks);   // the generic entry points
//
// How. The host packs chunks of consecutive blocks (packet records back to back, per-block
// offsets, and each block's time-axis constants from picture::prepare_time, the very function
// the CPU kernels use) into pinned memory; the library uploads a chunk, bins every packet with
// the scalar kernel's float64 formula (cuda/picture_math.hpp), counts (shared-memory counters for
// small pictures, a radix sort of (block, cell) keys for large ones), turns counts into values,
// and downloads dense [N, C, H, W] pictures or sorted non-zero cells. Two chunks are in flight
// at once, so packing, upload, kernels and download overlap. Values of counts policies that need
// no maximum (raw, clip255, log1p, ...) come from a table the host fills with the policy itself,
// so that e.g. log1p is glibc's, not CUDA's; max_norm and the download fraction are float64
// divisions done on the GPU as on the CPU.
//
// Errors: every failure of the CUDA runtime or of the library throws flowpic::cuda::error (a
// flowpic::error) naming the API call and cudaGetErrorString's text; error::no_device() tells a
// machine without a usable GPU.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/blocks/block.hpp"
#include "flowpic/config.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/cuda/error.hpp"
#include "flowpic/cuda/picture_api.hpp"
#include "flowpic/picture/channels.hpp"
#include "flowpic/picture/counts.hpp"
#include "flowpic/picture/dense_picture.hpp"
#include "flowpic/picture/histogram.hpp"
#include "flowpic/picture/many_blocks.hpp"
#include "flowpic/picture/size_axis.hpp"
#include "flowpic/picture/sparse_picture.hpp"
#include "flowpic/picture/sparse_stack.hpp"
#include "flowpic/picture/time_axis.hpp"

namespace flowpic::picture {

// How the GPU counts (cuda_maker exposes it for tests that must cover both).
enum class cuda_path : std::uint32_t {
    automatic = FLOWPIC_CUDA_PATH_AUTO,  // shared when the picture's counters fit in shared memory
    shared = FLOWPIC_CUDA_PATH_SHARED,   // a thread block per picture with counters in shared memory
    sort = FLOWPIC_CUDA_PATH_SORT,       // a radix sort of (block, cell) keys, then runs
};

struct cuda_options {
    std::size_t chunk_packets = std::size_t{1} << 21;  // packets per chunk at most (16 bytes each up)
    std::size_t chunk_bytes = std::size_t{64} << 20;   // output bytes per chunk at most (down)
    cuda_path path = cuda_path::automatic;
    int device = -1;  // CUDA device ordinal; -1: the calling thread's current device
};

// Host-side pieces of the CUDA backend: plain C++, usable (and tested) without a GPU.
namespace cuda_detail {

static_assert(sizeof(flowpic_cuda_packet) == sizeof(packet) && offsetof(flowpic_cuda_packet, time_ns) == offsetof(packet, time_ns) &&
                  offsetof(flowpic_cuda_packet, size) == offsetof(packet, size) &&
                  offsetof(flowpic_cuda_packet, dir) == offsetof(packet, dir) && sizeof(direction) == 1 &&
                  static_cast<int>(direction::reverse) == 1,
              "flowpic: flowpic_cuda_packet must have flowpic::packet's layout");

template <class>
inline constexpr bool dependent_false = false;

// A range's block i as a blocks::block (ranges may hand out anything convertible to one).
template <block_range R>
[[nodiscard]] flowpic::blocks::block block_at(const R& range, std::size_t i) {
    return range[i];
}

template <histogram_policy H>
struct support {
    using T = typename H::value_type;
    using Co = typename H::counts_type;
    using Ch = typename H::channels_type;
    static constexpr bool is_float = std::is_same_v<T, float> || std::is_same_v<T, double>;
    static constexpr bool storable = std::is_trivially_copyable_v<T> && !std::is_same_v<T, long double> &&
                                     (sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8);
    static constexpr bool known_channels = std::is_same_v<Ch, channels::counts> ||
                                           std::is_same_v<Ch, channels::download_fraction> ||
                                           std::is_same_v<Ch, channels::by_direction>;
    // needs_max policies are computed on the device: only max_norm is known there
    static constexpr bool known_counts = !Co::needs_max || (std::is_same_v<Co, counts::max_norm<T>> && is_float);
    static constexpr bool fraction_ok = !std::is_same_v<Ch, channels::download_fraction> || is_float;
};

template <histogram_policy H>
[[nodiscard]] constexpr std::uint32_t channels_code() noexcept {
    using Ch = typename H::channels_type;
    if constexpr (std::is_same_v<Ch, channels::download_fraction>) return FLOWPIC_CUDA_CHANNELS_DOWNLOAD_FRACTION;
    else if constexpr (std::is_same_v<Ch, channels::by_direction>) return FLOWPIC_CUDA_CHANNELS_BY_DIRECTION;
    else return FLOWPIC_CUDA_CHANNELS_COUNTS;
}

template <class T>
[[nodiscard]] constexpr std::uint32_t float_code() noexcept {
    if constexpr (std::is_same_v<T, float>) return FLOWPIC_CUDA_FLOAT_F32;
    else if constexpr (std::is_same_v<T, double>) return FLOWPIC_CUDA_FLOAT_F64;
    else return FLOWPIC_CUDA_FLOAT_NONE;
}

// The picture policies of H as the API's parameters. `lut` (size_lut of H's size axis) and
// `background` (one value per channel) are pointed to, not copied: keep them alive until the
// context is created (flowpic_cuda_create copies them).
template <histogram_policy H>
[[nodiscard]] flowpic_cuda_picture_config picture_config(const std::vector<std::int32_t>& lut,
                                                         const typename H::value_type* background, cuda_path path,
                                                         int device) noexcept {
    using A = typename H::time_axis_type;
    using C = typename A::clock;
    flowpic_cuda_picture_config c{};
    c.height = static_cast<std::uint32_t>(H::height);
    c.width = static_cast<std::uint32_t>(H::width);
    c.time_in_rows = H::time_in_rows ? 1u : 0u;
    c.time_bins = H::time_bins;
    c.channels = channels_code<H>();
    c.counts = H::counts_type::needs_max ? FLOWPIC_CUDA_COUNTS_MAX_NORM : FLOWPIC_CUDA_COUNTS_TABLE;
    c.value_bytes = static_cast<std::uint32_t>(sizeof(typename H::value_type));
    c.value_float = float_code<typename H::value_type>();
    c.clock_quantum_ns = C::quantum_ns;
    c.clock_rounding = C::round == rounding::half_away ? FLOWPIC_CUDA_ROUND_HALF_AWAY : FLOWPIC_CUDA_ROUND_FLOOR;
    c.clock_divides = C::divisor != 1.0 ? 1u : 0u;
    c.clock_divisor = C::divisor;
    c.open_end = A::end == window_end::open ? 1u : 0u;
    c.size_lut_length = static_cast<std::uint32_t>(lut.size());
    c.size_lut = lut.data();
    c.background = background;
    c.path = static_cast<std::uint32_t>(path);
    c.device = device;
    return c;
}

// The counts policy's value of every count 0 .. entries - 1 (FLOWPIC_CUDA_COUNTS_TABLE): the
// same function the CPU kernels call, so the GPU's values are the CPU's.
template <histogram_policy H>
[[nodiscard]] std::vector<typename H::value_type> value_table(std::size_t entries) {
    std::vector<typename H::value_type> t(entries);
    for (std::size_t c = 0; c < entries; ++c) t[c] = H::counts_type::value(static_cast<std::uint32_t>(c), 0);
    return t;
}

// Table entries that cover blocks of up to n packets (a cell counts at most n): a power of two
// above n, at least 1024, so that the table is replaced rarely.
[[nodiscard]] inline std::size_t table_entries_for(std::size_t n) noexcept {
    std::size_t e = 1024;
    while (e <= n) e *= 2;
    return e;
}

// Output bytes of a chunk: dense pictures, or the sparse worst case (one cell per packet).
template <histogram_policy H>
[[nodiscard]] constexpr std::size_t output_bytes(std::size_t blocks, std::size_t packets, bool sparse) noexcept {
    using T = typename H::value_type;
    if (sparse) return packets * (sizeof(std::uint32_t) + H::channel_count * sizeof(T)) + blocks * sizeof(std::uint32_t);
    return blocks * H::channel_count * H::cells * sizeof(T);
}

// The next chunk from block `first`: as many blocks as the limits allow, at least one.
struct chunk_plan {
    std::size_t end = 0;      // one past its last block
    std::size_t packets = 0;  // its packets
    std::size_t largest = 0;  // packets of its largest block
};

template <histogram_policy H, block_range R>
[[nodiscard]] chunk_plan plan_chunk(const R& range, std::size_t first, bool sparse, const cuda_options& o) {
    chunk_plan p{first, 0, 0};
    const std::size_t n = range.size();
    while (p.end < n) {
        const std::size_t k = block_at(range, p.end).packets.size();
        const std::size_t count = p.end - first + 1, packets = p.packets + k;
        if (p.end > first && (packets > o.chunk_packets || output_bytes<H>(count, packets, sparse) > o.chunk_bytes)) break;
        p.packets = packets;
        p.largest = std::max(p.largest, k);
        ++p.end;
    }
    return p;
}

// Writes blocks [first, end) into a slot's staging buffers: packets back to back, offsets, and
// each block's time constants, exactly as picture::maker prepares them.
template <histogram_policy H, block_range R>
void pack(const R& range, std::size_t first, std::size_t end, const std::int32_t* lut, const flowpic_cuda_staging& st) {
    using S = typename H::size_axis_type;
    std::uint32_t o = 0;
    for (std::size_t i = first; i < end; ++i) {
        const flowpic::blocks::block b = block_at(range, i);
        const std::size_t k = i - first;
        const time_params tp = prepare_time<typename H::time_axis_type>(
            b, H::time_bins, [lut](std::uint32_t s) { return lut[size_lut_index<S>(s)] >= 0; });
        st.offsets[k] = o;
        st.times[k] = flowpic_cuda_block_time{tp.origin, tp.x0, tp.span};
        const std::size_t n = b.packets.size();
        if (n) std::memcpy(static_cast<void*>(st.packets + o), b.packets.data(), n * sizeof(packet));
        o += static_cast<std::uint32_t>(n);
    }
    st.offsets[end - first] = o;
}

}  // namespace cuda_detail

// Pictures of many blocks on one CUDA device. Holds a context of the flowpic::cuda library (two
// streams, their pinned and device buffers, grown as needed and reused); one per thread.
template <histogram_policy H>
class cuda_maker {
    using support = cuda_detail::support<H>;
    static_assert(FLOWPIC_HAS_CUDA || cuda_detail::dependent_false<H>,
                  "flowpic: picture::cuda_maker and backend::cuda need the compiled flowpic::cuda component: "
                  "target_link_libraries(<target> PRIVATE flowpic::cuda) (configure flowpic with FLOWPIC_ENABLE_CUDA=ON "
                  "where nvcc is found)");
    static_assert(support::storable, "flowpic: backend::cuda stores values of 1, 2, 4 or 8 bytes (not long double)");
    static_assert(support::known_channels,
                  "flowpic: backend::cuda knows channels::counts, channels::download_fraction and channels::by_direction");
    static_assert(support::known_counts,
                  "flowpic: backend::cuda computes counts policies that need the picture's maximum only for "
                  "counts::max_norm<float or double>");
    static_assert(support::fraction_ok, "flowpic: channels::download_fraction on the GPU needs float or double values");

public:
    using histogram_type = H;
    using value_type = typename H::value_type;
    static constexpr std::size_t channels = H::channel_count;
    static constexpr std::size_t height = H::height;
    static constexpr std::size_t width = H::width;
    static constexpr std::size_t plane = H::cells;

    explicit cuda_maker(cuda_options o = {}) : opt_(o), lut_(size_lut<typename H::size_axis_type>(H::size_bins)) {
        for (std::size_t c = 0; c < channels; ++c) background_[c] = H::channels_type::template background<value_type>(c);
        const flowpic_cuda_picture_config cfg = cuda_detail::picture_config<H>(lut_, background_.data(), opt_.path, opt_.device);
        check(flowpic_cuda_create(&cfg, &ctx_), "flowpic_cuda_create");
    }
    ~cuda_maker() { flowpic_cuda_destroy(ctx_); }
    cuda_maker(const cuda_maker&) = delete;
    cuda_maker& operator=(const cuda_maker&) = delete;
    cuda_maker(cuda_maker&& o) noexcept
        : opt_(o.opt_), lut_(std::move(o.lut_)), background_(o.background_), ctx_(std::exchange(o.ctx_, nullptr)),
          table_entries_(std::exchange(o.table_entries_, 0)) {}
    cuda_maker& operator=(cuda_maker&& o) noexcept {
        if (this != &o) {
            flowpic_cuda_destroy(ctx_);
            opt_ = o.opt_;
            lut_ = std::move(o.lut_);
            background_ = o.background_;
            ctx_ = std::exchange(o.ctx_, nullptr);
            table_entries_ = std::exchange(o.table_entries_, 0);
        }
        return *this;
    }

    // f(first, count, nchw) per chunk of consecutive blocks, in block order: the dense pictures
    // of blocks first .. first + count - 1 as one [count, C, H, W] array in pinned host memory,
    // valid during the call. The fastest dense output (no copy on the host).
    template <block_range R, class F>
    void for_each_dense_chunk(const R& range, F&& f) {
        run(range, FLOWPIC_CUDA_OUTPUT_DENSE, [&](std::size_t first, std::size_t count, const flowpic_cuda_result& r) {
            f(first, count, std::span<const value_type>(static_cast<const value_type*>(r.dense), count * channels * plane));
        });
    }

    // f(first, count, d_nchw) per chunk, in block order: the dense pictures of blocks first ..
    // first + count - 1 as one [count, C, H, W] array in device memory (the maker's device),
    // valid during the call. Nothing comes back to the host: hand them to nn::cuda_network
    // (predict_from_device, gradient). The next chunk reuses the memory, so what f queues on
    // another stream must finish before f returns (cuda_network's calls that return results do).
    template <block_range R, class F>
    void for_each_device_chunk(const R& range, F&& f) {
        run(range, FLOWPIC_CUDA_OUTPUT_DEVICE_DENSE, [&](std::size_t first, std::size_t count, const flowpic_cuda_result& r) {
            f(first, count, static_cast<const value_type*>(r.device_dense));
        });
    }

    // f(i, picture) for every block i, in order; the picture (a copy in a reused buffer) is valid
    // during the call only, as under the CPU backends.
    template <block_range R, class F>
    void for_each_dense(const R& range, F&& f) {
        for_each_dense_chunk(range, [&](std::size_t first, std::size_t count, std::span<const value_type> nchw) {
            if (one_.data.size() != channels * plane) one_ = dense_picture<value_type>(channels, height, width);
            for (std::size_t k = 0; k < count; ++k) {
                std::copy_n(nchw.data() + k * channels * plane, channels * plane, one_.data.data());
                f(first + k, static_cast<const dense_picture<value_type>&>(one_));
            }
        });
    }

    // The dense pictures of every block as one [N, C, H, W] array (N x 4.5 MB at 1500x1500 uint16:
    // prefer for_each_dense_chunk for large pictures).
    template <block_range R>
    [[nodiscard]] std::vector<value_type> dense_stack(const R& range) {
        std::vector<value_type> out(range.size() * channels * plane);
        for_each_dense_chunk(range, [&](std::size_t first, std::size_t, std::span<const value_type> nchw) {
            std::copy(nchw.begin(), nchw.end(), out.begin() + static_cast<std::ptrdiff_t>(first * channels * plane));
        });
        return out;
    }

    // f(i, view) for every block i, in order: its sorted non-zero cells, valid during the call.
    template <block_range R, class F>
    void for_each_sparse(const R& range, F&& f) {
        run(range, FLOWPIC_CUDA_OUTPUT_SPARSE, [&](std::size_t first, std::size_t count, const flowpic_cuda_result& r) {
            const auto* values = static_cast<const value_type*>(r.values);
            for (std::size_t k = 0; k < count; ++k) {
                const std::size_t at = r.offsets[k], nnz = r.nnz[k];
                f(first + k, sparse_view<value_type>{channels, height, width, std::span<const std::uint32_t>(r.cells + at, nnz),
                                                     std::span<const value_type>(values + at * channels, nnz * channels),
                                                     std::span<const value_type>(background_.data(), channels)});
            }
        });
    }

    // The sparse pictures of every block, in block order.
    template <block_range R>
    [[nodiscard]] sparse_stack<value_type> make_sparse_stack(const R& range) {
        sparse_stack<value_type> out(channels, height, width, std::vector<value_type>(background_.begin(), background_.end()));
        std::size_t packets = 0;  // at most one cell per packet
        for (std::size_t i = 0; i < range.size(); ++i) packets += cuda_detail::block_at(range, i).packets.size();
        out.reserve(range.size(), std::min(packets, range.size() * plane));
        for_each_sparse(range, [&](std::size_t, const sparse_view<value_type>& v) { out.push_back(v); });
        return out;
    }

    [[nodiscard]] std::span<const value_type> background() const noexcept { return {background_.data(), channels}; }
    [[nodiscard]] const cuda_options& options() const noexcept { return opt_; }
    // The path the GPU runs for this picture (shared or sort).
    [[nodiscard]] cuda_path path() const {
        std::uint32_t p = 0;
        check(flowpic_cuda_path_of(ctx_, &p), "flowpic_cuda_path_of");
        return static_cast<cuda_path>(p);
    }

private:
    struct in_flight {
        std::size_t first = 0, count = 0;
        bool live = false;
    };

    static void check(int status, const char* operation) {
        if (status != FLOWPIC_CUDA_SUCCESS) cuda::throw_if_failed(status, operation, flowpic_cuda_error_string(status));
    }

    // Chunks of the range through the slots round-robin: while the GPU works on one chunk, the
    // host collects the previous one and packs the next. consume(first, count, result) in order.
    template <class R, class Consume>
    void run(const R& range, int output, Consume&& consume) {
        const std::size_t n = range.size();
        if (n == 0) return;
        constexpr unsigned slots = FLOWPIC_CUDA_SLOTS;
        in_flight slot[slots];
        const bool sparse = output == FLOWPIC_CUDA_OUTPUT_SPARSE;
        auto finish = [&](unsigned s) {
            flowpic_cuda_result r{};
            check(flowpic_cuda_wait(ctx_, s, &r), "flowpic_cuda_wait");
            slot[s].live = false;
            consume(slot[s].first, slot[s].count, r);
        };
        try {
            unsigned s = 0;
            std::size_t first = 0;
            while (first < n) {
                if (slot[s].live) finish(s);
                const cuda_detail::chunk_plan plan = cuda_detail::plan_chunk<H>(range, first, sparse, opt_);
                ensure_table(plan.largest);
                flowpic_cuda_staging st{};
                check(flowpic_cuda_stage(ctx_, s, plan.end - first, plan.packets, &st), "flowpic_cuda_stage");
                cuda_detail::pack<H>(range, first, plan.end, lut_.data(), st);
                check(flowpic_cuda_submit(ctx_, s, output), "flowpic_cuda_submit");
                slot[s] = in_flight{first, plan.end - first, true};
                first = plan.end;
                s = (s + 1) % slots;
            }
            for (unsigned k = 0; k < slots; ++k, s = (s + 1) % slots)  // oldest first
                if (slot[s].live) finish(s);
        } catch (...) {
            flowpic_cuda_reset(ctx_);  // drop what is still in flight; the context stays usable
            throw;
        }
    }

    // The value table must cover the largest block's counts.
    void ensure_table(std::size_t largest) {
        if constexpr (!H::counts_type::needs_max) {
            if (largest < table_entries_) return;
            const std::size_t entries = cuda_detail::table_entries_for(largest);
            const auto t = cuda_detail::value_table<H>(entries);
            check(flowpic_cuda_set_table(ctx_, t.data(), entries), "flowpic_cuda_set_table");
            table_entries_ = entries;
        }
    }

    cuda_options opt_;
    std::vector<std::int32_t> lut_;
    std::array<value_type, channels> background_{};
    flowpic_cuda_context* ctx_ = nullptr;
    std::size_t table_entries_ = 0;
    dense_picture<value_type> one_;
};

namespace kernel {

// The generic entry points' backend::cuda path (picture/many_blocks.hpp): one cuda_maker per thread
// and picture type, made on first use and kept, since a GPU context and its buffers are costly
// to set up. Use a cuda_maker of your own to choose the device, the chunk sizes or the lifetime.
template <class H>
struct cuda_batch {
    static cuda_maker<H>& local() {
        thread_local cuda_maker<H> m;
        return m;
    }
    template <class R, class F>
    static void for_each_dense(const R& range, F& f) {
        local().for_each_dense(range, f);
    }
    template <class R>
    [[nodiscard]] static sparse_stack<typename H::value_type> make_sparse_stack(const R& range) {
        return local().make_sparse_stack(range);
    }
};

}  // namespace kernel

}  // namespace flowpic::picture
