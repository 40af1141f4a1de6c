#pragma once
// Fast dense layers over a chunk of samples, as nn GEMMs: forward against W^T packed once per
// weight update, input gradient against W's rows, weight gradient as dY^T X accumulated.
// x rows must be readable a tile (2 vectors) past their end: the network's buffers carry slack.

#include <algorithm>
#include <cstddef>
#include <vector>

#include "flowpic/nn/kernels/simd.hpp"

namespace flowpic::nn::kernels::simd {

using simd_detail::VL;

struct dense_plan {
    std::size_t in = 0, out = 0, opad = 0, ipad = 0;
    static dense_plan make(std::size_t in, std::size_t out) {
        const std::size_t tile = simd_detail::nn_max_nv * VL;
        return {in, out, simd_detail::round_up(out, tile), simd_detail::round_up(in, tile)};
    }
};

struct dense_packed {
    std::vector<float> wt, wp;               // W^T [in][opad] and W [out][ipad], zero padded
    std::vector<const float*> wt_rows, wp_rows;
    void pack(const dense_plan& p, const float* w) {
        wt.assign(p.in * p.opad + VL, 0.0f);
        wp.assign(p.out * p.ipad + VL, 0.0f);
        for (std::size_t o = 0; o < p.out; ++o)
            for (std::size_t i = 0; i < p.in; ++i) {
                wt[i * p.opad + o] = w[o * p.in + i];
                wp[o * p.ipad + i] = w[o * p.in + i];
            }
        wt_rows.resize(p.in);
        wp_rows.resize(p.out);
        for (std::size_t i = 0; i < p.in; ++i) wt_rows[i] = wt.data() + i * p.opad;
        for (std::size_t o = 0; o < p.out; ++o) wp_rows[o] = wp.data() + o * p.ipad;
    }
};

struct dense_scratch {
    std::vector<float> a, c;
    std::vector<const float*> rows;
};

FLOWPIC_NN_NOINLINE inline void dense_forward(const dense_plan& p, const dense_packed& w, const float* bias, const float* x, float* y,
                          std::size_t n, dense_scratch& sc) {
    const auto mb = simd_detail::m_blocks::plan(n);
    sc.a.resize(n * p.in + VL);
    sc.c.resize(n * p.opad + VL);
    simd_detail::pack_a(x, p.in, 1, p.in, mb, sc.a.data());
    simd_detail::gemm_nn(mb, simd_detail::nn_max_nv, p.opad, p.in, sc.a.data(), w.wt_rows.data(), 0, sc.c.data(),
                         p.opad, false);
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t o = 0; o < p.out; ++o) y[s * p.out + o] = sc.c[s * p.opad + o] + bias[o];
}

// dw, db accumulate; dx (may be null) is overwritten.
FLOWPIC_NN_NOINLINE inline void dense_backward(const dense_plan& p, const dense_packed& w, const float* x, const float* dy, float* dx,
                           float* dw, float* db, std::size_t n, dense_scratch& sc) {
    for (std::size_t o = 0; o < p.out; ++o) {
        float s = 0.0f;
        for (std::size_t i = 0; i < n; ++i) s += dy[i * p.out + o];
        db[o] += s;
    }
    const auto mo = simd_detail::m_blocks::plan(p.out);
    sc.a.resize(std::max(n * p.out, p.out * n) + VL);
    simd_detail::pack_a(dy, 1, p.out, n, mo, sc.a.data());
    sc.rows.resize(n);
    for (std::size_t i = 0; i < n; ++i) sc.rows[i] = x + i * p.in;
    simd_detail::gemm_nn_exact(mo, p.in, n, sc.a.data(), sc.rows.data(), 0, dw, p.in, true);
    if (!dx) return;
    const auto mb = simd_detail::m_blocks::plan(n);
    simd_detail::pack_a(dy, p.out, 1, p.out, mb, sc.a.data());
    sc.c.resize(n * p.ipad + VL);
    simd_detail::gemm_nn(mb, simd_detail::nn_max_nv, p.ipad, p.out, sc.a.data(), w.wp_rows.data(), 0, sc.c.data(),
                         p.ipad, false);
    for (std::size_t s = 0; s < n; ++s) std::copy(sc.c.data() + s * p.ipad, sc.c.data() + s * p.ipad + p.in, dx + s * p.in);
}

}  // namespace flowpic::nn::kernels::simd
