#pragma once
// Register-blocked micro-kernels over xsimd batches, the building blocks of the fast
// convolution and dense kernels. B operands are given as a table of row pointers, so a
// convolution reads its input rows in place (no im2col copy) and a dense layer reads weight
// rows directly. Tile shapes follow the register file: 32 vector registers with AVX-512,
// 16 otherwise.
//
//   nn: C[m][j] (+)= sum_k A[k][m] * B_k[j]       A packed k-major in blocks of MR rows
//   nt: O[m][k]  += sum_r sum_j A_rm[j] * B_rk[j]  reductions along j (weight gradients)
//
// Contract: every B row (and A row for nt) is readable for the whole tile width past its offset
// (buffers carry slack); nt rows are zero beyond the valid length.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <xsimd/xsimd.hpp>

// The big kernels are called, not inlined: one copy per program instead of one per network.
#if defined(__GNUC__) || defined(__clang__)
#define FLOWPIC_NN_NOINLINE [[gnu::noinline]]
#else
#define FLOWPIC_NN_NOINLINE
#endif

namespace flowpic::nn::kernels::simd_detail {

using vfloat = xsimd::batch<float>;
inline constexpr std::size_t VL = vfloat::size;
inline constexpr std::size_t vregs = VL >= 16 ? 32 : 16;

// Largest MR for NV vectors per row in the nn kernel (accumulators + B vectors + a broadcast).
inline constexpr std::size_t nn_max_mr(std::size_t nv) { return std::min<std::size_t>((vregs - nv - 2) / nv, 24); }
inline constexpr std::size_t nn_max_nv = 2;
inline constexpr std::size_t nt_mr = VL >= 16 ? 5 : 3;
inline constexpr std::size_t nt_kr = VL >= 16 ? 4 : 3;

// kidx (Indexed): A row of operand k is kidx[k], so a caller can drop operands that are zero.
template <std::size_t MR, std::size_t NV, bool Indexed>
inline void ukernel_nn(std::size_t K, const float* a, const float* const* b, std::size_t boff, float* c,
                       std::size_t ldc, bool accumulate, const std::uint32_t* kidx) {
    vfloat acc[MR][NV];
#pragma GCC unroll 32
    for (std::size_t m = 0; m < MR; ++m)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v)
            acc[m][v] = accumulate ? vfloat::load_unaligned(c + m * ldc + v * VL) : vfloat(0.0f);
    for (std::size_t k = 0; k < K; ++k) {
        const float* bk = b[k] + boff;
        vfloat bv[NV];
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) bv[v] = vfloat::load_unaligned(bk + v * VL);
        const float* ak = a + (Indexed ? kidx[k] : k) * MR;
#pragma GCC unroll 32
        for (std::size_t m = 0; m < MR; ++m) {
            const vfloat av(ak[m]);
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) acc[m][v] = xsimd::fma(av, bv[v], acc[m][v]);
        }
    }
#pragma GCC unroll 32
    for (std::size_t m = 0; m < MR; ++m)
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) acc[m][v].store_unaligned(c + m * ldc + v * VL);
}

using nn_fn = void (*)(std::size_t, const float*, const float* const*, std::size_t, float*, std::size_t, bool,
                       const std::uint32_t*);

template <std::size_t NV, bool Indexed, std::size_t... M>
constexpr auto nn_row(std::index_sequence<M...>) {
    return std::array<nn_fn, sizeof...(M)>{&ukernel_nn<M + 1, NV, Indexed>...};
}
template <std::size_t NV>
inline nn_fn nn_kernel(std::size_t mr, bool indexed) {
    static constexpr auto plain = nn_row<NV, false>(std::make_index_sequence<nn_max_mr(NV)>{});
    static constexpr auto with_index = nn_row<NV, true>(std::make_index_sequence<nn_max_mr(NV)>{});
    return indexed ? with_index[mr - 1] : plain[mr - 1];
}

// A's rows split into blocks of at most MR: equal sizes, so F = 20 is two blocks of 10.
struct m_blocks {
    std::size_t count = 0, size = 0, total = 0;
    static m_blocks plan(std::size_t m) {
        const std::size_t mr = nn_max_mr(nn_max_nv);  // valid for both tile widths
        const std::size_t count = (m + mr - 1) / mr;
        return {count, (m + count - 1) / count, m};
    }
    [[nodiscard]] std::size_t begin(std::size_t i) const { return i * size; }
    [[nodiscard]] std::size_t rows(std::size_t i) const { return std::min(size, total - i * size); }
};

// Packs A (M x K, element (m, k) at a[m * lda_m + k * lda_k]) into the blocks the nn kernel reads.
FLOWPIC_NN_NOINLINE inline void pack_a(const float* a, std::size_t lda_m, std::size_t lda_k, std::size_t K, const m_blocks& mb,
                   float* out) {
    for (std::size_t i = 0; i < mb.count; ++i) {
        const std::size_t m0 = mb.begin(i), mr = mb.rows(i);
        float* o = out + m0 * K;
        for (std::size_t k = 0; k < K; ++k)
            for (std::size_t m = 0; m < mr; ++m) o[k * mr + m] = a[(m0 + m) * lda_m + k * lda_k];
    }
}

// C (M x N, row stride ldc) (+)= A * B over whole tiles of NV vectors: the caller pads N.
// With kidx, only K of the packed A's Kfull rows take part: operand k is A row kidx[k].
FLOWPIC_NN_NOINLINE inline void gemm_nn(const m_blocks& mb, std::size_t nv, std::size_t N, std::size_t K, const float* packed,
                    const float* const* b, std::size_t boff, float* c, std::size_t ldc, bool accumulate,
                    const std::uint32_t* kidx = nullptr, std::size_t Kfull = 0) {
    const std::size_t tile = nv * VL, stride = kidx ? Kfull : K;
    for (std::size_t i = 0; i < mb.count; ++i) {
        const std::size_t m0 = mb.begin(i), mr = mb.rows(i);
        const nn_fn fn = nv == 1 ? nn_kernel<1>(mr, kidx) : nn_kernel<2>(mr, kidx);
        if (K == 0) {  // nothing to add: zeros, or C as it is
            if (!accumulate)
                for (std::size_t m = 0; m < mr; ++m) std::fill_n(c + (m0 + m) * ldc, N, 0.0f);
            continue;
        }
        for (std::size_t n0 = 0; n0 < N; n0 += tile)
            fn(K, packed + m0 * stride, b, boff + n0, c + m0 * ldc + n0, ldc, accumulate, kidx);
    }
}

// As gemm_nn for an N that is not a multiple of the tile: the last tile goes through a scratch
// row so that neither C nor B is touched past N (B rows must still be readable past N).
FLOWPIC_NN_NOINLINE inline void gemm_nn_exact(const m_blocks& mb, std::size_t N, std::size_t K, const float* packed,
                          const float* const* b, std::size_t boff, float* c, std::size_t ldc, bool accumulate) {
    constexpr std::size_t nv = 2, tile = nv * VL;
    const std::size_t full = N / tile * tile;
    if (full) gemm_nn(mb, nv, full, K, packed, b, boff, c, ldc, accumulate);
    if (full == N) return;
    const std::size_t rest = N - full;
    const std::size_t tnv = rest > VL ? 2 : 1;
    alignas(64) float tmp[24 * tile];
    for (std::size_t i = 0; i < mb.count; ++i) {
        const std::size_t m0 = mb.begin(i), mr = mb.rows(i);
        if (accumulate)
            for (std::size_t m = 0; m < mr; ++m) std::memcpy(tmp + m * tile, c + (m0 + m) * ldc + full, rest * sizeof(float));
        const nn_fn fn = tnv == 1 ? nn_kernel<1>(mr, false) : nn_kernel<2>(mr, false);
        fn(K, packed + m0 * K, b, boff + full, tmp, tile, accumulate, nullptr);
        for (std::size_t m = 0; m < mr; ++m) std::memcpy(c + (m0 + m) * ldc + full, tmp + m * tile, rest * sizeof(float));
    }
}

template <std::size_t MR, std::size_t KR>
inline void ukernel_nt(std::size_t rows, std::size_t chunks, const float* const* a, std::size_t a_stride,
                       const float* const* b, std::size_t b_stride, float* out, std::size_t ldo) {
    vfloat acc[MR][KR];
#pragma GCC unroll 32
    for (std::size_t m = 0; m < MR; ++m)
#pragma GCC unroll 8
        for (std::size_t k = 0; k < KR; ++k) acc[m][k] = vfloat(0.0f);
    for (std::size_t r = 0; r < rows; ++r) {
        const float* const* ar = a + r * a_stride;
        const float* const* br = b + r * b_stride;
        for (std::size_t j = 0; j < chunks * VL; j += VL) {
            vfloat av[MR];
#pragma GCC unroll 32
            for (std::size_t m = 0; m < MR; ++m) av[m] = vfloat::load_unaligned(ar[m] + j);
#pragma GCC unroll 8
            for (std::size_t k = 0; k < KR; ++k) {
                const vfloat bv = vfloat::load_unaligned(br[k] + j);
#pragma GCC unroll 32
                for (std::size_t m = 0; m < MR; ++m) acc[m][k] = xsimd::fma(av[m], bv, acc[m][k]);
            }
        }
    }
#pragma GCC unroll 32
    for (std::size_t m = 0; m < MR; ++m)
#pragma GCC unroll 8
        for (std::size_t k = 0; k < KR; ++k) out[m * ldo + k] += xsimd::hadd(acc[m][k]);
}

using nt_fn = void (*)(std::size_t, std::size_t, const float* const*, std::size_t, const float* const*, std::size_t,
                       float*, std::size_t);

template <std::size_t MR, std::size_t... K>
constexpr auto nt_row(std::index_sequence<K...>) {
    return std::array<nt_fn, sizeof...(K)>{&ukernel_nt<MR, K + 1>...};
}
template <std::size_t... M>
constexpr auto nt_table(std::index_sequence<M...>) {
    return std::array<std::array<nt_fn, nt_kr>, sizeof...(M)>{nt_row<M + 1>(std::make_index_sequence<nt_kr>{})...};
}
inline nt_fn nt_kernel(std::size_t mr, std::size_t kr) {
    static constexpr auto table = nt_table(std::make_index_sequence<nt_mr>{});
    return table[mr - 1][kr - 1];
}

// O (M x K, row stride ldo) += sum over rows r and j < chunks * VL of A_r[m][j] * B_r[k][j].
// a: rows x M pointers (a_stride apart), b: rows x K pointers (b_stride apart).
FLOWPIC_NN_NOINLINE inline void gemm_nt(std::size_t M, std::size_t K, std::size_t rows, std::size_t chunks, const float* const* a,
                    std::size_t a_stride, const float* const* b, std::size_t b_stride, float* out, std::size_t ldo) {
    for (std::size_t m0 = 0; m0 < M; m0 += nt_mr) {
        const std::size_t mr = std::min(nt_mr, M - m0);
        for (std::size_t k0 = 0; k0 < K; k0 += nt_kr) {
            const std::size_t kr = std::min(nt_kr, K - k0);
            nt_kernel(mr, kr)(rows, chunks, a + m0, a_stride, b + k0, b_stride, out + m0 * ldo + k0, ldo);
        }
    }
}

[[nodiscard]] inline std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

}  // namespace flowpic::nn::kernels::simd_detail
