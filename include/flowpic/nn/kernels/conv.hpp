#pragma once
// Fast convolution as an implicit GEMM. Each padded input row is split once into its stride
// phases (phase p holds columns p, p + s, p + 2s, ...). For kernel column kx the inputs of a run
// of output columns are then one contiguous run of phase kx % s, starting at kx / s, so the
// GEMM reads its K = c * kh * kw operand rows straight from the phase rows: no im2col buffer,
// and padding costs nothing (zero rows, zeroed phase ends). With stride 5 and kernel 10 (the
// FlowPic network) each input value is moved once, where im2col would write it four times.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "flowpic/nn/kernels/geometry.hpp"
#include "flowpic/nn/kernels/simd.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace flowpic::nn::kernels::simd {

using simd_detail::vfloat;
using simd_detail::VL;

// Vectors per GEMM tile for rows of ow outputs pooled by `pool` (1: none): two when the row is
// wider than a vector and the pooled vectors tile evenly, else one.
constexpr std::size_t tile_vectors(std::size_t ow, std::size_t pool) {
    return ow / pool * pool > VL && (pool == 1 || (pool * VL) % (2 * VL) == 0) ? 2 : 1;
}

// Conv columns the GEMM computes per row: whole tiles, and whole vectors of pooled outputs.
constexpr std::size_t computed_columns(std::size_t ow, std::size_t pool) {
    const std::size_t cols = ow / pool * pool;
    const std::size_t unit = pool > 1 ? pool * VL : tile_vectors(ow, pool) * VL;  // a multiple of the tile
    return (cols + unit - 1) / unit * unit;
}

struct conv_plan {
    conv_geometry g{};
    std::size_t pool = 1;    // pooling (window = stride) fused after the convolution; 1: none
    std::size_t jn = 0;      // valid outputs per stage row (pooled columns when pooled)
    std::size_t nv = 1;      // vectors per GEMM tile
    std::size_t owp = 0;     // conv columns computed per row: whole tiles, whole pooling vectors
    std::size_t rows = 0;    // conv rows computed (pooling drops the rest)
    std::size_t lph = 0;     // length of one phase row
    simd_detail::m_blocks fwd{};  // filters, forward GEMM
    simd_detail::m_blocks bwd{};  // c * kh * kw, input-gradient GEMM
    std::vector<std::size_t> columns;  // [kx]: offset of kernel column kx in a split row

    static conv_plan make(const conv_geometry& g, std::size_t pool = 1) {
        conv_plan p;
        p.g = g;
        p.pool = pool;
        p.jn = g.ow / pool;
        p.rows = g.oh / pool * pool;
        p.nv = tile_vectors(g.ow, pool);
        p.owp = computed_columns(g.ow, pool);
        const std::size_t data = (g.padded_w() + g.sw - 1) / g.sw;
        p.lph = simd_detail::round_up(std::max(data, (g.kw - 1) / g.sw + p.owp), VL);
        p.fwd = simd_detail::m_blocks::plan(g.f);
        p.bwd = simd_detail::m_blocks::plan(g.k());
        p.columns.resize(g.kw);
        for (std::size_t kx = 0; kx < g.kw; ++kx) p.columns[kx] = (kx % g.sw) * p.lph + kx / g.sw;
        return p;
    }
    [[nodiscard]] std::size_t row_floats() const noexcept { return g.sw * lph; }
    [[nodiscard]] std::size_t out_row() const noexcept { return g.f * owp; }  // one conv row, [f][ox]
};

#if defined(__AVX512F__)
namespace detail {
// Permutes that split 16 x S consecutive floats into S phases of 16: lane l of phase p is
// element S * l + p, found in vector pair (S * l + p) / 32.
struct split_tables {
    alignas(64) std::int32_t idx[17][16][8][16];
    __mmask16 take[17][16][8];
};
inline const split_tables& splits() {
    static const split_tables t = [] {
        split_tables r{};
        for (int s = 2; s <= 16; ++s)
            for (int p = 0; p < s; ++p)
                for (int l = 0; l < 16; ++l) {
                    const int e = s * l + p, pair = e / 32;
                    r.idx[s][p][pair][l] = e % 32;
                    r.take[s][p][pair] = static_cast<__mmask16>(r.take[s][p][pair] | (1u << l));
                }
        return r;
    }();
    return t;
}

// Vector of x[a .. a + 16) with zeros outside [0, w): masked loads at the row's ends.
inline __m512 load_clipped(const float* x, std::ptrdiff_t a, std::ptrdiff_t w) {
    if (a >= 0 && a + 16 <= w) return _mm512_loadu_ps(x + a);
    const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, -a), hi = std::min<std::ptrdiff_t>(16, w - a);
    if (hi <= lo) return _mm512_setzero_ps();
    const auto mask = static_cast<__mmask16>(((1u << (hi - lo)) - 1u) << lo);
    return a < 0 ? _mm512_maskz_expandloadu_ps(mask, x) : _mm512_maskz_loadu_ps(mask, x + a);
}

template <std::size_t S>
inline void split_row(const float* x, std::size_t w, std::size_t pl, std::size_t lph, float* out) {
    const auto& t = splits();
    constexpr std::size_t pairs = (S + 1) / 2;
    const auto sw = static_cast<std::ptrdiff_t>(w);
    for (std::size_t j = 0; j < lph; j += 16) {
        // input columns [j * S - pl, (j + 16) * S - pl)
        const std::ptrdiff_t first = static_cast<std::ptrdiff_t>(j * S) - static_cast<std::ptrdiff_t>(pl);
        __m512 v[2 * pairs];
        if (first >= 0 && first + static_cast<std::ptrdiff_t>(16 * S) <= sw) {
#pragma GCC unroll 16
            for (std::size_t i = 0; i < S; ++i) v[i] = _mm512_loadu_ps(x + first + 16 * i);
        } else {
#pragma GCC unroll 16
            for (std::size_t i = 0; i < S; ++i) v[i] = load_clipped(x, first + static_cast<std::ptrdiff_t>(16 * i), sw);
        }
        if constexpr (S % 2) v[S] = v[S - 1];
#pragma GCC unroll 16
        for (std::size_t p = 0; p < S; ++p) {
            __m512 r = _mm512_permutex2var_ps(v[0], _mm512_load_si512(t.idx[S][p][0]), v[1]);
#pragma GCC unroll 8
            for (std::size_t i = 1; i < pairs; ++i)
                r = _mm512_mask_blend_ps(t.take[S][p][i], r,
                                         _mm512_permutex2var_ps(v[2 * i], _mm512_load_si512(t.idx[S][p][i]), v[2 * i + 1]));
            _mm512_storeu_ps(out + p * lph + j, r);
        }
    }
}

template <std::size_t... S>
inline bool split_row_any(std::size_t s, const float* x, std::size_t w, std::size_t pl, std::size_t lph, float* out,
                          std::index_sequence<S...>) {
    return ((s == S + 2 ? (split_row<S + 2>(x, w, pl, lph, out), true) : false) || ...);
}
}  // namespace detail
#endif

// out[p * lph + j] = padded_row[j * s + p], zero outside the input.
FLOWPIC_NN_NOINLINE inline void deinterleave_row(const float* x, std::size_t w, std::size_t pl, std::size_t s, std::size_t lph,
                             float* out) {
    if (!x) {
        std::fill(out, out + s * lph, 0.0f);
        return;
    }
    if (s == 1) {
        std::fill(out, out + std::min(pl, lph), 0.0f);
        if (pl < lph) std::memcpy(out + pl, x, std::min(w, lph - pl) * sizeof(float));
        if (pl + w < lph) std::fill(out + pl + w, out + lph, 0.0f);
        return;
    }
#if defined(__AVX512F__)
    if (lph % 16 == 0 && detail::split_row_any(s, x, w, pl, lph, out, std::make_index_sequence<15>{})) return;
#endif
    for (std::size_t p = 0; p < s; ++p) {
        float* o = out + p * lph;
        for (std::size_t j = 0; j < lph; ++j) {
            const std::size_t q = j * s + p;
            o[j] = q >= pl && q - pl < w ? x[q - pl] : 0.0f;
        }
    }
}

// True when the n floats at x hold anything but +0 (FlowPic rows are mostly empty).
inline bool any_nonzero(const float* x, std::size_t n) {
    std::size_t i = 0;
    const vfloat zero(0.0f);
    for (; i + VL <= n; i += VL)
        if (xsimd::any(vfloat::load_unaligned(x + i) != zero)) return true;
    for (; i < n; ++i)
        if (x[i] != 0.0f) return true;
    return false;
}

// The split rows of one sample that the current output rows need, kept in a ring of `slots`
// rows per channel and split on first use. Rows of zeros (padding, empty FlowPic rows) are not
// split: row_or_null says so, row() points them at one shared row of zeros.
class phase_ring {
public:
    void reset(const conv_plan& p, std::size_t slots, const float* sample) {
        plan_ = &p;
        slots_ = std::min(slots, p.g.padded_h());
        x_ = sample;
        const std::size_t need = p.g.c * slots_ * p.row_floats() + 4 * VL;
        if (data_.size() < need) data_.resize(need, 0.0f);
        if (zeros_.size() < p.row_floats() + 4 * VL) zeros_.assign(p.row_floats() + 4 * VL, 0.0f);
        tags_.assign(p.g.c * slots_, ~std::size_t{0});
        empty_.assign(p.g.c * slots_, 0);
    }
    // Split padded row r (0 <= r < padded height) of channel c, or null when it is all zeros.
    const float* row_or_null(std::size_t c, std::size_t r) {
        const auto& g = plan_->g;
        const std::size_t slot = c * slots_ + r % slots_;
        float* d = data_.data() + slot * plan_->row_floats();
        if (tags_[slot] != r) {
            tags_[slot] = r;
            const float* src = r >= g.pt && r - g.pt < g.h ? x_ + (c * g.h + (r - g.pt)) * g.w : nullptr;
            empty_[slot] = !src || !any_nonzero(src, g.w);
            if (!empty_[slot]) deinterleave_row(src, g.w, g.pl, g.sw, plan_->lph, d);
        }
        return empty_[slot] ? nullptr : d;
    }
    const float* row(std::size_t c, std::size_t r) {
        const float* d = row_or_null(c, r);
        return d ? d : zeros_.data();
    }

private:
    const conv_plan* plan_ = nullptr;
    std::size_t slots_ = 0;
    const float* x_ = nullptr;
    std::vector<float> data_, zeros_;
    std::vector<std::size_t> tags_;
    std::vector<std::uint8_t> empty_;
};

// Operand rows of conv row oy: b[(c * kh + ky) * kw + kx].
inline void operand_rows(const conv_plan& p, phase_ring& ring, std::size_t oy, const float** b) {
    const auto& g = p.g;
    const std::size_t* col = p.columns.data();
    for (std::size_t c = 0; c < g.c; ++c)
        for (std::size_t ky = 0; ky < g.kh; ++ky) {
            const float* row = ring.row(c, oy * g.sh + ky);
            const float** bk = b + (c * g.kh + ky) * g.kw;
            for (std::size_t kx = 0; kx < g.kw; ++kx) bk[kx] = row + col[kx];
        }
}

// The operand rows of conv row oy that are not all zeros, and their k: returns how many.
inline std::size_t nonzero_operand_rows(const conv_plan& p, phase_ring& ring, std::size_t oy, const float** b,
                                        std::uint32_t* kidx) {
    const auto& g = p.g;
    const std::size_t* col = p.columns.data();
    std::size_t n = 0;
    for (std::size_t c = 0; c < g.c; ++c)
        for (std::size_t ky = 0; ky < g.kh; ++ky) {
            const float* row = ring.row_or_null(c, oy * g.sh + ky);
            if (!row) continue;
            const auto k0 = static_cast<std::uint32_t>((c * g.kh + ky) * g.kw);
            for (std::size_t kx = 0; kx < g.kw; ++kx, ++n) {
                b[n] = row + col[kx];
                kidx[n] = k0 + static_cast<std::uint32_t>(kx);
            }
        }
    return n;
}

// out[f][0 .. owp) = sum_k w[f][k] * operand_k (no bias): one conv row, all filters. Operands
// from rows of zeros add nothing and are left out (exactly: the sum skips + 0 terms).
// scratch: k pointers; kidx: k indices.
FLOWPIC_NN_NOINLINE inline void forward_row(const conv_plan& p, const float* packed_w, phase_ring& ring, std::size_t oy, float* out,
                        const float** scratch, std::uint32_t* kidx) {
    const std::size_t n = nonzero_operand_rows(p, ring, oy, scratch, kidx);
    simd_detail::gemm_nn(p.fwd, p.nv, p.owp, n, packed_w, scratch, 0, out, p.owp, false, kidx, p.g.k());
}

// dw[f][k] += sum over conv rows oy0 .. oy0 + n - 1 of dy_r[f] . operand_rk, where dy holds n
// conv rows laid out as forward_row writes them, zero past the valid columns.
// scratch: n * (f + k) pointers.
FLOWPIC_NN_NOINLINE inline void weight_grad_rows(const conv_plan& p, phase_ring& ring, std::size_t oy0, std::size_t n, const float* dy,
                             float* dw, const float** scratch) {
    const auto& g = p.g;
    const std::size_t K = g.k();
    const float** a = scratch;
    const float** b = scratch + n * g.f;
    for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t f = 0; f < g.f; ++f) a[r * g.f + f] = dy + r * p.out_row() + f * p.owp;
        operand_rows(p, ring, oy0 + r, b + r * K);
    }
    simd_detail::gemm_nt(g.f, K, n, p.owp / VL, a, g.f, b, K, dw, K);
}

// Rows of the input-gradient scratch carry zeros on both sides, wide enough for the shifted
// reads below to need no bounds: col_pad floats, then owp values, then col_pad floats.
[[nodiscard]] inline std::size_t col_pad(const conv_plan& p) {
    return simd_detail::round_up((p.g.kw - 1) / p.g.sw + 1, VL);
}
[[nodiscard]] inline std::size_t col_stride(const conv_plan& p) { return p.owp + 2 * col_pad(p); }

// Input gradient of conv row oy, added into the split accumulator of the whole padded sample
// (c x padded_h rows of row_floats). dy: one conv row as forward_row writes it, zero past the
// valid columns; col: k rows of col_stride(p), pads zeroed once by the caller; scratch: f
// pointers. The kernel columns that land in one phase row are summed in registers first, so
// every accumulator vector is read and written once (adding them one by one would store to
// overlapping, misaligned addresses and stall on store forwarding).
FLOWPIC_NN_NOINLINE inline void input_grad_row(const conv_plan& p, const float* packed_wt, std::size_t oy, const float* dy,
                                               float* col, float* acc, const float** scratch) {
    const auto& g = p.g;
    const std::size_t hp = g.padded_h(), cs = col_stride(p), pad = col_pad(p);
    for (std::size_t f = 0; f < g.f; ++f) scratch[f] = dy + f * p.owp;
    simd_detail::gemm_nn(p.bwd, p.nv, p.owp, g.f, packed_wt, scratch, 0, col + pad, cs, false);
    const std::size_t reach = p.owp + (g.kw - 1) / g.sw;  // phase-row columns the kernel touches
    for (std::size_t c = 0; c < g.c; ++c)
        for (std::size_t ky = 0; ky < g.kh; ++ky) {
            float* row = acc + (c * hp + oy * g.sh + ky) * p.row_floats();
            const float* k0 = col + pad + ((c * g.kh + ky) * g.kw) * cs;
            for (std::size_t ph = 0; ph < g.sw && ph < g.kw; ++ph) {
                float* d = row + ph * p.lph;
                for (std::size_t j = 0; j < reach; j += VL) {
                    vfloat t = vfloat::load_unaligned(d + j);
                    for (std::size_t kx = ph, a = 0; kx < g.kw; kx += g.sw, ++a)
                        t += vfloat::load_unaligned(k0 + kx * cs + j - a);
                    t.store_unaligned(d + j);
                }
            }
        }
}

// dx[c][iy][ix] = accumulator at padded (iy + pt, ix + pl).
FLOWPIC_NN_NOINLINE inline void interleave_grad(const conv_plan& p, const float* acc, float* dx) {
    const auto& g = p.g;
    const std::size_t hp = g.padded_h();
    for (std::size_t c = 0; c < g.c; ++c)
        for (std::size_t iy = 0; iy < g.h; ++iy) {
            const float* row = acc + (c * hp + iy + g.pt) * p.row_floats();
            float* o = dx + (c * g.h + iy) * g.w;
            for (std::size_t ph = 0; ph < g.sw; ++ph) {  // padded column t = j * sw + ph = ix + pl
                const float* src = row + ph * p.lph;
                std::size_t j = ph >= g.pl ? 0 : (g.pl - ph + g.sw - 1) / g.sw;
                for (std::size_t ix = j * g.sw + ph - g.pl; ix < g.w; ix += g.sw, ++j) o[ix] = src[j];
            }
        }
}

// G vectors from G * VL consecutive floats: out[q] lane l = src[l * G + q].
inline void split_vectors(const float* src, std::size_t G, vfloat* out) {
#if defined(__AVX512F__)
    if constexpr (VL == 16) {
        if (G >= 2 && G <= 16) {
            const auto& t = detail::splits();
            __m512 v[17];
            for (std::size_t i = 0; i < G; ++i) v[i] = _mm512_loadu_ps(src + 16 * i);
            v[G] = v[G - 1];
            for (std::size_t q = 0; q < G; ++q) {
                __m512 r = _mm512_permutex2var_ps(v[0], _mm512_load_si512(t.idx[G][q][0]), v[1]);
                for (std::size_t i = 1; 2 * i < G; ++i)
                    r = _mm512_mask_blend_ps(t.take[G][q][i], r,
                                             _mm512_permutex2var_ps(v[2 * i], _mm512_load_si512(t.idx[G][q][i]), v[2 * i + 1]));
                out[q] = vfloat(r);
            }
            return;
        }
    }
#endif
    alignas(64) float t[16 * VL];
    for (std::size_t q = 0; q < G; ++q) {
        for (std::size_t l = 0; l < VL; ++l) t[q * VL + l] = src[l * G + q];
        out[q] = vfloat::load_aligned(t + q * VL);
    }
}

// Weights [f][k] packed for the forward GEMM, and transposed for the input-gradient GEMM.
FLOWPIC_NN_NOINLINE inline void pack_forward(const conv_plan& p, const float* w, float* out) {
    simd_detail::pack_a(w, p.g.k(), 1, p.g.k(), p.fwd, out);
}
FLOWPIC_NN_NOINLINE inline void pack_transposed(const conv_plan& p, const float* w, float* out) {
    simd_detail::pack_a(w, 1, p.g.k(), p.g.f, p.bwd, out);
}

}  // namespace flowpic::nn::kernels::simd
