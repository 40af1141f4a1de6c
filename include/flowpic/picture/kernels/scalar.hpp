#pragma once
// The scalar histogram kernel: the oracle every other backend equals bit for bit.
//
// A block becomes a picture in four steps; only the first differs between backends:
//   1. cells:   each packet's time -> time bin (the float64 formula of time_axis.hpp) and size ->
//               size bin (lookup table), both with numpy's bin rule, -> flat cell index; packets
//               numpy would drop get the index `cells` (one past the picture)
//   2. counts:  small grids count into scratch grids; large ones sort the cells (LSD radix, with
//               the direction bit when a channel needs it)
//   3. runs:    sorted (cell, packets, downstream packets)
//   4. values:  the counts and channels policies turn each run into the cell's values

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/config.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/picture/size_axis.hpp"
#include "flowpic/picture/time_axis.hpp"

#if defined(__FAST_MATH__)
#warning "flowpic: -ffast-math changes float64 rounding; pictures may no longer equal numpy's bit for bit"
#endif

namespace flowpic::picture::kernel {

// The size axis' lookup table (size_axis.hpp), also as float64 for vector gathers.
struct size_table {
    const std::int32_t* bins = nullptr;
    const double* bins_f64 = nullptr;
};

// Step 1, scalar: the reference evaluation, one packet at a time.
template <class H>
void bin_cells(const packet* p, std::size_t n, const time_params& tp, const size_table& lut, std::uint32_t* out,
               backend::requires_backend<backend::scalar>) {
    using C = typename H::time_axis_type::clock;
    using S = typename H::size_axis_type;
    for (std::size_t i = 0; i < n; ++i) {
        const std::int32_t t = time_bin(clock_value<C>(p[i].time_ns, tp.origin), tp);
        const std::int32_t s = lut.bins[size_lut_index<S>(p[i].size)];
        out[i] = (s | t) >= 0 ? H::cell(static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(t))
                              : static_cast<std::uint32_t>(H::cells);
    }
}

// Sorted runs of equal cells; the arrays keep their capacity from block to block.
struct cell_runs {
    std::vector<std::uint32_t> cells;
    std::vector<std::uint32_t> total;  // packets in the cell
    std::vector<std::uint32_t> down;   // of which downstream (only with a direction channel)
    std::size_t count = 0;

    [[nodiscard]] std::size_t size() const noexcept { return count; }
    void reserve(std::size_t n, bool dir) {
        if (cells.size() < n) {
            cells.resize(n);
            total.resize(n);
            if (dir) down.resize(n);
        }
    }
};

// Step 2, large grids: keys (cell, or cell * 2 + direction) of the packets that land in the
// picture; returns how many.
template <class H>
[[nodiscard]] std::size_t make_keys(const packet* p, const std::uint32_t* cells, std::size_t n,
                                    std::uint32_t* keys) noexcept {
    constexpr bool dir = H::channels_type::needs_direction;
    std::size_t m = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t cell = cells[i];
        std::uint32_t key = cell;
        if constexpr (dir) key = cell * 2u + static_cast<std::uint32_t>(p[i].dir == direction::reverse);
        keys[m] = key;  // overwritten by the next packet when this one is dropped
        m += static_cast<std::size_t>(cell < H::cells);
    }
    return m;
}

// LSD radix sort of keys below 2^bits; `tmp` is scratch of the same length.
inline void radix_sort(std::uint32_t* keys, std::uint32_t* tmp, std::size_t n, unsigned bits,
                       std::vector<std::uint32_t>& counts) {
    if (n <= 256) {
        std::sort(keys, keys + n);
        return;
    }
    const unsigned passes = (bits + 11) / 12;
    const unsigned digit = (bits + passes - 1) / passes;
    const std::uint32_t buckets = 1u << digit, mask = buckets - 1;
    counts.assign(std::size_t{buckets} * passes, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t k = keys[i];
        for (unsigned p = 0; p < passes; ++p) ++counts[p * buckets + ((k >> (p * digit)) & mask)];
    }
    std::uint32_t* src = keys;
    std::uint32_t* dst = tmp;
    for (unsigned p = 0; p < passes; ++p) {
        std::uint32_t* c = counts.data() + std::size_t{p} * buckets;
        const std::uint32_t first = (src[0] >> (p * digit)) & mask;
        if (c[first] == n) continue;  // one digit value only: this pass would not move anything
        std::uint32_t sum = 0;
        for (std::uint32_t b = 0; b < buckets; ++b) {
            const std::uint32_t v = c[b];
            c[b] = sum;
            sum += v;
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t k = src[i];
            dst[c[(k >> (p * digit)) & mask]++] = k;
        }
        std::swap(src, dst);
    }
    if (src != keys) std::memcpy(keys, src, n * sizeof(std::uint32_t));
}

// Stable counting sort of keys by key / divisor (< buckets): when the keys of each bucket already
// come in order (packets sorted by time, rows = size), this one pass sorts them by cell.
inline void bucket_sort(std::uint32_t*& keys, std::uint32_t*& tmp, std::size_t n, std::uint32_t divisor,
                        std::uint32_t buckets, std::vector<std::uint32_t>& counts) {
    counts.assign(buckets, 0);
    for (std::size_t i = 0; i < n; ++i) ++counts[keys[i] / divisor];
    std::uint32_t sum = 0;
    for (std::uint32_t b = 0; b < buckets; ++b) {
        const std::uint32_t v = counts[b];
        counts[b] = sum;
        sum += v;
    }
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t k = keys[i];
        tmp[counts[k / divisor]++] = k;
    }
    std::swap(keys, tmp);
}

// Step 3, large grids: collapse keys sorted (or at least grouped) by cell into runs, without
// branches: a run starts wherever the cell changes; its length is the distance to the next start.
template <bool Dir>
void runs_from_sorted(const std::uint32_t* keys, std::size_t m, cell_runs& r) {
    r.reserve(m + 1, Dir);
    std::uint32_t* cells = r.cells.data();
    std::uint32_t* first = r.total.data();  // run starts first, lengths after the second pass
    std::uint32_t* down = Dir ? r.down.data() : nullptr;
    std::size_t k = 0;
    std::uint32_t prev = ~0u, downs = 0;
    for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t cell = Dir ? keys[i] >> 1 : keys[i];
        const std::size_t fresh = cell != prev;
        prev = cell;
        k += fresh;
        cells[k - 1] = cell;
        first[k - 1] = fresh ? static_cast<std::uint32_t>(i) : first[k - 1];
        if constexpr (Dir) {
            down[k - 1] = fresh ? downs : down[k - 1];  // downstream packets before the run
            downs += keys[i] & 1u;
        }
    }
    for (std::size_t j = 0; j < k; ++j) {
        const std::uint32_t end = j + 1 < k ? first[j + 1] : static_cast<std::uint32_t>(m);
        if constexpr (Dir) {
            const std::uint32_t end_downs = j + 1 < k ? down[j + 1] : downs;
            down[j] = end_downs - down[j];
        }
        first[j] = end - first[j];
    }
    r.count = k;
}

// Step 2, small grids: count into zeroed scratch grids. Packets go round-robin to `Copies` grids
// of cells + 1 counters (the last takes dropped packets), so that a run of packets in one cell
// does not wait on its own increments; a byte per cell (a plain store, where a bitmap's
// read-modify-write would chain consecutive packets of one row) remembers which were touched.
template <class H, std::size_t Copies>
void count_grid(const packet* p, const std::uint32_t* cells, std::size_t n, std::uint32_t* total, std::uint32_t* down,
                std::uint8_t* touched) noexcept {
    constexpr bool dir = H::channels_type::needs_direction;
    constexpr std::size_t stride = H::cells + 1;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t cell = cells[i];
        const std::size_t g = (i % Copies) * stride + cell;
        ++total[g];
        if constexpr (dir) down[g] += static_cast<std::uint32_t>(p[i].dir == direction::reverse);
        touched[cell] = 1;
    }
}

// The touched flags of count_grid for `cells` + 1 counters, padded to whole 8-byte words.
[[nodiscard]] constexpr std::size_t touched_bytes(std::size_t cells) noexcept { return (cells + 1 + 7) / 8 * 8; }

// Step 3, small grids: the touched cells in order, leaving grids and flags zeroed again.
template <bool Dir, std::size_t Copies>
void runs_from_grid(std::uint32_t* total, std::uint32_t* down, std::uint8_t* touched, std::size_t cells, cell_runs& r) {
    const std::size_t stride = cells + 1;
    const std::size_t words = touched_bytes(cells) / 8;
    std::size_t k = 0;
    for (std::size_t w = 0; w < words; ++w) {
        std::uint64_t bytes;
        std::memcpy(&bytes, touched + w * 8, 8);
        if (!bytes) continue;
        std::memset(touched + w * 8, 0, 8);
        r.reserve(k + 8, Dir);
        do {
            const std::size_t c = w * 8 + static_cast<std::size_t>(std::countr_zero(bytes)) / 8;
            bytes &= bytes - 1;  // flags are 0 or 1: this clears the lowest flag
            std::uint32_t t = 0, d = 0;
            for (std::size_t j = 0; j < Copies; ++j) {
                t += total[j * stride + c];
                total[j * stride + c] = 0;
                if constexpr (Dir) {
                    d += down[j * stride + c];
                    down[j * stride + c] = 0;
                }
            }
            if (c == cells) continue;  // the dropped packets' counter
            r.cells[k] = static_cast<std::uint32_t>(c);
            r.total[k] = t;
            if constexpr (Dir) r.down[k] = d;
            ++k;
        } while (bytes);
    }
    r.count = k;
}

}  // namespace flowpic::picture::kernel
