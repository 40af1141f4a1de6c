#pragma once
// The per-packet and per-cell arithmetic of the CUDA picture kernels, written once for the
// device and the host: the kernels (cuda/*.cu) call it on the GPU, and the CPU unit tests run
// the same functions on the host, one element at a time, against the scalar kernel.
//
// Bit-exactness. Each function repeats the scalar kernel's operations in its order
// (picture/time_axis.hpp, bins.hpp, counts.hpp, channels.hpp): integer clock arithmetic, then
// float64 divisions, subtractions and multiplications that IEEE 754 rounds to nearest on both
// sides, spelled once for both in core/host_device.hpp (the library is also built with
// --fmad=false). Values that a counts
// policy computes with a library function (std::log1p) come from a table the host fills with
// the policy itself (FLOWPIC_CUDA_COUNTS_TABLE), since CUDA's log1p and glibc's may differ in the
// last place.
//
// No CUDA header is needed: under nvcc the intrinsics are built in; elsewhere this is plain C++.

#include <cmath>
#include <cstdint>
#include <cstring>

#include "flowpic/core/host_device.hpp"
#include "flowpic/cuda/picture_api.hpp"

namespace flowpic::cuda::math {

using hd::ddiv;
using hd::dfloor;
using hd::dmul;
using hd::dsub;
using hd::f32_bits;
using hd::f64_bits;
using hd::i64_to_double;
using hd::u32_to_double;

// ---- step 1: packet -> cell ------------------------------------------------------------------

// A picture's binning constants, from its flowpic_cuda_picture_config.
struct bin_params {
    std::int64_t quantum;   // the clock's tick, ns
    double divisor;         // the clock's divisor
    double bins;            // time bins as float64
    std::uint32_t rounding;
    std::uint32_t divides;
    std::uint32_t nbins;    // time bins
    std::uint32_t open_end;
    std::uint32_t time_in_rows;
    std::uint32_t width;
    std::uint32_t cells;    // height * width: the index of dropped packets
    std::uint32_t lut_last; // index of the size table's "larger sizes" entry (max_size + 1)
};

inline bin_params make_bin_params(const flowpic_cuda_picture_config& c) {
    bin_params p{};
    p.quantum = c.clock_quantum_ns;
    p.divisor = c.clock_divisor;
    p.bins = static_cast<double>(c.time_bins);
    p.rounding = c.clock_rounding;
    p.divides = c.clock_divides;
    p.nbins = c.time_bins;
    p.open_end = c.open_end;
    p.time_in_rows = c.time_in_rows;
    p.width = c.width;
    p.cells = c.height * c.width;
    p.lut_last = c.size_lut_length - 1;
    return p;
}

// picture::quantise: floor(d / q), or to nearest with ties away from zero.
FLOWPIC_HD std::int64_t quantise(std::int64_t d, std::int64_t q, std::uint32_t rounding) {
    if (q == 1) return d;
    if (rounding == FLOWPIC_CUDA_ROUND_HALF_AWAY) return d >= 0 ? (d + q / 2) / q : -((q / 2 - d) / q);
    const std::int64_t r = d / q;
    return (d % q != 0 && d < 0) ? r - 1 : r;
}

// picture::clock_value.
FLOWPIC_HD double clock_value(std::int64_t t, std::int64_t origin, const bin_params& p) {
    const double x = i64_to_double(quantise(t - origin, p.quantum, p.rounding));
    return p.divides ? ddiv(x, p.divisor) : x;
}

// picture::unit_bin: numpy's rule on unit edges 0..n, the last bin closed; -1 outside (and NaN).
FLOWPIC_HD std::int32_t unit_bin(double v, std::int32_t n) {
    const double top = static_cast<double>(n);
    if (!(v >= 0.0 && v <= top)) return -1;
    const double f = dfloor(v);
    return f < top ? static_cast<std::int32_t>(f) : n - 1;
}

// picture::time_bin.
FLOWPIC_HD std::int32_t time_bin(double x, const flowpic_cuda_block_time& bt, const bin_params& p) {
    const double u = dsub(x, bt.x0);
    if (p.open_end && !(u < bt.span)) return -1;
    return unit_bin(dmul(ddiv(u, bt.span), p.bins), static_cast<std::int32_t>(p.nbins));
}

// The scalar kernel's bin_cells for one packet: its flat cell, or p.cells when numpy drops it.
FLOWPIC_HD std::uint32_t cell_of(std::int64_t time_ns, std::uint32_t size, const flowpic_cuda_block_time& bt,
                                 const bin_params& p, const std::int32_t* lut) {
    const std::int32_t t = time_bin(clock_value(time_ns, bt.origin, p), bt, p);
    const std::int32_t s = lut[size < p.lut_last ? size : p.lut_last];
    if ((s | t) < 0) return p.cells;
    const auto su = static_cast<std::uint32_t>(s), tu = static_cast<std::uint32_t>(t);
    return p.time_in_rows ? tu * p.width + su : su * p.width + tu;
}

// ---- step 2/3 of the sort path: keys, runs -------------------------------------------------
// A key is (chunk-local block << key_bits) | (cell, or cell * 2 + downstream with a direction
// channel); dropped packets get cell = cells, which sorts after every cell of their block.
struct key_params {
    std::uint32_t key_bits;  // bits of the cell part
    std::uint32_t dir;       // 1: the lowest bit is the direction
    std::uint32_t cells;
};

// Bits needed for the values 0..v.
FLOWPIC_HD std::uint32_t bits_for(std::uint64_t v) {
    std::uint32_t b = 0;
    while (v) {
        ++b;
        v >>= 1;
    }
    return b;
}

inline key_params make_key_params(std::uint32_t cells, bool dir) {
    key_params k{};
    k.dir = dir ? 1u : 0u;
    k.cells = cells;
    k.key_bits = bits_for(static_cast<std::uint64_t>(cells) << k.dir);  // cells (dropped) itself included
    return k;
}

FLOWPIC_HD std::uint64_t make_key(std::uint32_t block, std::uint32_t cell, bool down, const key_params& k) {
    const std::uint64_t low = k.dir ? (static_cast<std::uint64_t>(cell) << 1) | (cell < k.cells && down ? 1u : 0u)
                                    : static_cast<std::uint64_t>(cell);
    return (static_cast<std::uint64_t>(block) << k.key_bits) | low;
}
FLOWPIC_HD std::uint32_t key_cell(std::uint64_t key, const key_params& k) {
    const std::uint64_t low = key & ((std::uint64_t{1} << k.key_bits) - 1);
    return static_cast<std::uint32_t>(low >> k.dir);
}
FLOWPIC_HD bool key_valid(std::uint64_t key, const key_params& k) { return key_cell(key, k) < k.cells; }
// (block, cell): equal for the packets of one run.
FLOWPIC_HD std::uint64_t key_group(std::uint64_t key, const key_params& k) { return key >> k.dir; }
FLOWPIC_HD bool key_down(std::uint64_t key, const key_params& k) { return k.dir && (key & 1u); }

// Over keys sorted ascending (n of them): does a run of equal (block, cell) start / end at i?
FLOWPIC_HD bool run_starts(const std::uint64_t* keys, std::uint32_t i, const key_params& k) {
    return key_valid(keys[i], k) && (i == 0 || key_group(keys[i - 1], k) != key_group(keys[i], k));
}
FLOWPIC_HD bool run_ends(const std::uint64_t* keys, std::uint32_t i, std::uint32_t n, const key_params& k) {
    return key_valid(keys[i], k) && (i + 1 == n || key_group(keys[i + 1], k) != key_group(keys[i], k));
}

// Runs as index ranges of the sorted keys: start, end, and where its downstream keys begin
// (they sort last within a run, the direction being the lowest bit).
struct run_arrays {
    std::uint32_t* cell;
    std::uint32_t* start;
    std::uint32_t* end;
    std::uint32_t* down_from;
};

// Element i's share of the runs, given flags[i] = run_starts(i) and scan = their exclusive
// prefix sum: run r = scan[i] (+ 0 at a start, - 1 inside a run). Every field of every run is
// written by exactly one element.
FLOWPIC_HD void fill_runs(const std::uint64_t* keys, const std::uint32_t* scan, std::uint32_t i, std::uint32_t n,
                          const key_params& k, const run_arrays& r) {
    const std::uint64_t key = keys[i];
    if (!key_valid(key, k)) return;
    const bool start = run_starts(keys, i, k);
    const std::uint32_t run = start ? scan[i] : scan[i] - 1;
    if (start) {
        r.cell[run] = key_cell(key, k);
        r.start[run] = i;
    }
    if (run_ends(keys, i, n, k)) {
        r.end[run] = i + 1;
        if (!key_down(key, k)) r.down_from[run] = i + 1;  // no downstream packet in the run
    }
    if (key_down(key, k) && (start || !key_down(keys[i - 1], k))) r.down_from[run] = i;
}

// ---- step 4: counts -> values ----------------------------------------------------------------
struct value_params {
    std::uint32_t channels;  // flowpic_cuda_channels
    std::uint32_t counts;    // flowpic_cuda_counts
    std::uint32_t value_float;
};

inline value_params make_value_params(const flowpic_cuda_picture_config& c) {
    return value_params{c.channels, c.counts, c.value_float};
}

FLOWPIC_HD std::uint32_t channel_count(std::uint32_t channels) {
    return channels == FLOWPIC_CUDA_CHANNELS_COUNTS ? 1u : 2u;
}
FLOWPIC_HD bool needs_direction(std::uint32_t channels) { return channels != FLOWPIC_CUDA_CHANNELS_COUNTS; }

// channels::*::largest.
FLOWPIC_HD std::uint32_t largest(std::uint32_t total, std::uint32_t down, std::uint32_t channels) {
    if (channels == FLOWPIC_CUDA_CHANNELS_BY_DIRECTION) return total - down > down ? total - down : down;
    return total;
}

// A float64 result stored in V (float bits in 4 bytes, double bits in 8).
template <class V>
FLOWPIC_HD V stored(double v, std::uint32_t value_float) {
    if constexpr (sizeof(V) == 4) {
        return value_float == FLOWPIC_CUDA_FLOAT_F32 ? static_cast<V>(f32_bits(v)) : V(0);
    } else if constexpr (sizeof(V) == 8) {
        return value_float == FLOWPIC_CUDA_FLOAT_F64 ? static_cast<V>(f64_bits(v)) : V(0);
    } else {
        return V(0);  // rejected when the context is created
    }
}

// counts policy of a count c: table[c] or counts::max_norm (0 when the picture is empty).
template <class V>
FLOWPIC_HD V count_value(std::uint32_t c, std::uint32_t max, const value_params& vp, const V* table) {
    if (vp.counts == FLOWPIC_CUDA_COUNTS_TABLE) return table[c];
    if (max == 0) return V(0);
    return stored<V>(ddiv(u32_to_double(c), u32_to_double(max)), vp.value_float);
}

// channels::*::values of a cell with `total` packets, `down` of them downstream.
template <class V>
FLOWPIC_HD void cell_values(std::uint32_t total, std::uint32_t down, std::uint32_t max, const value_params& vp,
                            const V* table, V* out) {
    if (vp.channels == FLOWPIC_CUDA_CHANNELS_BY_DIRECTION) {
        out[0] = count_value<V>(total - down, max, vp, table);
        out[1] = count_value<V>(down, max, vp, table);
        return;
    }
    out[0] = count_value<V>(total, max, vp, table);
    if (vp.channels == FLOWPIC_CUDA_CHANNELS_DOWNLOAD_FRACTION)
        out[1] = stored<V>(ddiv(u32_to_double(down), u32_to_double(total)), vp.value_float);
}

}  // namespace flowpic::cuda::math
