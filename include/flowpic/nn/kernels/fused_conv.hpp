#pragma once
// One convolution with what follows it element-wise (ReLU, dropout, dropout2d) and, when it pays,
// the max-pooling after that, run as one kernel on one sample: the convolution output never
// leaves the cache. Forward keeps, per pooled output, which window element won (or 255 when a
// ReLU made the window dead), so backward rebuilds the convolution's output gradient row by row
// and feeds the weight- and input-gradient GEMMs without storing the full activation.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "flowpic/nn/kernels/conv.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/random.hpp"

namespace flowpic::nn::kernels::simd {

struct dropout_op {
    std::size_t layer = 0;        // index in the network (mask stream)
    std::uint32_t threshold = 0;  // element dropped when its bits are below
    float scale = 1.0f;           // 1 / (1 - rate)
    bool per_channel = false;     // dropout2d
};

struct fused_conv_desc {
    conv_plan plan{};  // at most 8 dropout layers may follow a convolution
    bool relu = false;
    std::vector<dropout_op> drops;  // in network order; they commute with ReLU

    [[nodiscard]] bool pooled() const noexcept { return plan.pool > 1; }
    // Every dropout is per channel (dropout2d): one scale per filter.
    [[nodiscard]] bool channel_drops() const noexcept {
        for (const auto& op : drops)
            if (!op.per_channel) return false;
        return true;
    }
    [[nodiscard]] std::size_t out_h() const noexcept { return plan.rows / plan.pool; }
    [[nodiscard]] std::size_t out_w() const noexcept { return plan.jn; }
    [[nodiscard]] std::size_t out_size() const noexcept { return plan.g.f * out_h() * out_w(); }
    // Conv rows per backward band: about 2048 columns, whole pooling windows.
    [[nodiscard]] std::size_t band() const noexcept {
        const std::size_t cols = plan.owp;
        const std::size_t n = simd_detail::round_up((2048 + cols - 1) / cols, plan.pool);
        return std::min(n, plan.rows);
    }
};

// Per-thread buffers of the fused kernels; grown on demand and reused.
struct fused_scratch {
    phase_ring ring;
    std::vector<float> rows, tmp, col, acc, scale;
    std::vector<const float*> ptrs;
    std::vector<std::uint32_t> kidx;

    template <class V>
    static auto* grow(V& v, std::size_t n) {
        if (v.size() < n) v.resize(n);
        return v.data();
    }
};

namespace detail {

// The mask streams of one sample's dropout layers (at most 8 per stage).
struct drop_keys {
    std::uint64_t key[8] = {};
    drop_keys(const fused_conv_desc& d, const run_context& ctx, std::size_t s) {
        for (std::size_t i = 0; i < d.drops.size() && i < 8; ++i)
            key[i] = stream_key(ctx.seed, ctx.step, d.drops[i].layer, ctx.sample_base + s);
    }
};

// Product of the dropout scales of conv element (f, oy, ox).
inline float drop_scale(const fused_conv_desc& d, const drop_keys& k, std::size_t f, std::size_t oy, std::size_t ox) {
    float v = 1.0f;
    const auto& g = d.plan.g;
    for (std::size_t i = 0; i < d.drops.size(); ++i) {
        const auto& op = d.drops[i];
        const std::size_t e = op.per_channel ? f : (f * g.oh + oy) * g.ow + ox;
        v *= counter_bits(k.key[i], e) >= op.threshold ? op.scale : 0.0f;
    }
    return v;
}

}  // namespace detail

// Rows [r0, r1) of the output of sample s (its index within the call, for dropout masks) of the
// fused stage. y: the stage output of that sample; codes (null when no backward follows): one
// byte per pooled output, the winning window element r * pool + q (255: dead after ReLU).
FLOWPIC_NN_NOINLINE inline void fused_forward(const fused_conv_desc& d, const float* packed_w, const float* bias, const float* x, float* y,
                          std::uint8_t* codes, std::size_t r0, std::size_t r1, const run_context& ctx, std::size_t s,
                          fused_scratch& sc) {
    const conv_plan& p = d.plan;
    const auto& g = p.g;
    const std::size_t G = p.pool, oh = d.out_h(), ow = d.out_w(), orow = p.out_row();
    const std::size_t jp = p.owp / G;  // pooled columns computed
    const bool drop = ctx.training && !d.drops.empty();
    const detail::drop_keys keys(d, ctx, s);
    const bool keep_codes = codes && G > 1;
    sc.ring.reset(p, g.kh + g.sh * G, x);
    float* rows = fused_scratch::grow(sc.rows, G * orow + VL);
    float* tmp = fused_scratch::grow(sc.tmp, 2 * p.owp + VL);
    float* scale = fused_scratch::grow(sc.scale, G * p.owp + VL);
    const float** ptrs = fused_scratch::grow(sc.ptrs, g.k());
    std::uint32_t* kidx = fused_scratch::grow(sc.kidx, g.k());
    const vfloat zero(0.0f), dead(255.0f);
    vfloat v[17];
    for (std::size_t ro = r0; ro < r1; ++ro) {
        for (std::size_t r = 0; r < G; ++r) forward_row(p, packed_w, sc.ring, ro * G + r, rows + r * orow, ptrs, kidx);
        for (std::size_t f = 0; f < g.f; ++f) {
            const vfloat b(bias[f]);
            const float* src = rows + f * p.owp;  // conv row r of the window at src + r * orow
            float* out = tmp;
            float* code = tmp + p.owp;
            if (G == 1) {
                const bool per_f = drop && d.channel_drops();
                const vfloat fs(per_f ? detail::drop_scale(d, keys, f, 0, 0) : 1.0f);
                for (std::size_t j = 0; j < p.owp; j += VL) {
                    vfloat u = vfloat::load_unaligned(src + j) + b;
                    if (d.relu) u = xsimd::max(u, zero);
                    if (per_f) {
                        u = u * fs;
                    } else if (drop) {
                        alignas(64) float sv[VL];
                        for (std::size_t l = 0; l < VL; ++l)
                            sv[l] = j + l < ow ? detail::drop_scale(d, keys, f, ro, j + l) : 0.0f;
                        u = u * vfloat::load_aligned(sv);
                    }
                    u.store_unaligned(out + j);
                }
            } else if (drop) {
                for (std::size_t r = 0; r < G; ++r)
                    for (std::size_t c = 0; c < p.owp; ++c)
                        scale[r * p.owp + c] = c < ow * G ? detail::drop_scale(d, keys, f, ro * G + r, c) : 0.0f;
                for (std::size_t j = 0; j < jp; j += VL) {
                    vfloat best(0.0f), arg(0.0f);
                    for (std::size_t r = 0; r < G; ++r) {
                        vfloat sc_v[17];
                        split_vectors(src + r * orow + j * G, G, v);
                        split_vectors(scale + r * p.owp + j * G, G, sc_v);
                        for (std::size_t q = 0; q < G; ++q) {
                            vfloat u = v[q] + b;
                            if (d.relu) u = xsimd::max(u, zero);
                            u = u * sc_v[q];
                            if (r == 0 && q == 0) {
                                best = u;
                            } else {
                                const auto m = u > best;
                                best = xsimd::select(m, u, best);
                                arg = xsimd::select(m, vfloat(static_cast<float>(r * G + q)), arg);
                            }
                        }
                    }
                    best.store_unaligned(out + j);
                    if (d.relu) arg = xsimd::select(best > zero, arg, dead);
                    arg.store_unaligned(code + j);
                }
            } else {
                // bias and ReLU are monotone and the same over a window: pool first, then apply
                for (std::size_t j = 0; j < jp; j += VL) {
                    vfloat best(0.0f), arg(0.0f);
                    for (std::size_t r = 0; r < G; ++r) {
                        split_vectors(src + r * orow + j * G, G, v);
                        for (std::size_t q = 0; q < G; ++q) {
                            if (r == 0 && q == 0) {
                                best = v[0];
                            } else {
                                const auto m = v[q] > best;
                                best = xsimd::select(m, v[q], best);
                                if (keep_codes) arg = xsimd::select(m, vfloat(static_cast<float>(r * G + q)), arg);
                            }
                        }
                    }
                    best = best + b;
                    if (d.relu) {
                        if (keep_codes) arg = xsimd::select(best > zero, arg, dead);
                        best = xsimd::max(best, zero);
                    }
                    best.store_unaligned(out + j);
                    if (keep_codes) arg.store_unaligned(code + j);
                }
            }
            std::memcpy(y + (f * oh + ro) * ow, out, ow * sizeof(float));
            if (keep_codes) {
                std::uint8_t* cd = codes + (f * oh + ro) * ow;
                for (std::size_t j = 0; j < ow; ++j) cd[j] = static_cast<std::uint8_t>(code[j]);
            }
        }
    }
}

// Gradients of one sample: dw, db accumulate; dx (may be null) is overwritten. y and codes are
// what fused_forward wrote; dy is the gradient of the stage output. dz (may be null) receives the
// gradient of the convolution's output before ReLU, dropout and pooling: plan.rows rows of
// plan.out_row() floats ([f][column], columns [0, owp)), for a caller that computes the weight
// and input gradients itself; with dz, only db accumulates here.
FLOWPIC_NN_NOINLINE inline void fused_backward(const fused_conv_desc& d, const float* packed_wt, const float* x, const float* y,
                           const std::uint8_t* codes, const float* dy, float* dx, float* dw, float* db,
                           const run_context& ctx, std::size_t s, fused_scratch& sc, float* dz = nullptr) {
    const conv_plan& p = d.plan;
    const auto& g = p.g;
    const std::size_t G = p.pool, oh = d.out_h(), ow = d.out_w(), nb = d.band(), orow = p.out_row();
    const bool drop = ctx.training && !d.drops.empty();
    const detail::drop_keys keys(d, ctx, s);
    sc.ring.reset(p, g.kh + g.sh * (nb - 1), x);
    float* dyb = fused_scratch::grow(sc.rows, nb * orow + VL);
    const float** ptrs = fused_scratch::grow(sc.ptrs, std::max(nb * (g.f + g.k()), g.f));
    float* col = nullptr;
    if (dx) {
        const std::size_t need = g.k() * col_stride(p) + 2 * VL;
        if (sc.col.size() < need) sc.col.assign(need, 0.0f);  // the pads stay zero: the GEMM never writes them
        col = sc.col.data();
    }
    const std::size_t acc_size = g.c * g.padded_h() * p.row_floats() + VL;
    float* acc = dx ? fused_scratch::grow(sc.acc, acc_size) : nullptr;
    if (dx) std::fill(acc, acc + acc_size, 0.0f);
    for (std::size_t oy0 = 0; oy0 < p.rows; oy0 += nb) {
        const std::size_t n = std::min(nb, p.rows - oy0);
        std::fill(dyb, dyb + n * orow, 0.0f);
        for (std::size_t r = 0; r < n; ++r) {
            const std::size_t oy = oy0 + r;
            for (std::size_t f = 0; f < g.f; ++f) {
                if (G > 1) {
                    if (oy % G) continue;  // a window's rows are filled from its first row
                    const std::size_t ro = oy / G;
                    const std::uint8_t* cd = codes + (f * oh + ro) * ow;
                    const float* dys = dy + (f * oh + ro) * ow;
                    for (std::size_t j = 0; j < ow; ++j) {
                        if (cd[j] == 255) continue;
                        const std::size_t wr = cd[j] / G, ox = j * G + cd[j] % G;
                        float v = dys[j];
                        if (drop) v *= detail::drop_scale(d, keys, f, oy + wr, ox);
                        dyb[(r + wr) * orow + f * p.owp + ox] = v;
                    }
                } else {
                    const float* dys = dy + (f * oh + oy) * ow;
                    const float* ys = y + (f * oh + oy) * ow;
                    float* o = dyb + r * orow + f * p.owp;
                    const bool per_f = drop && d.channel_drops();
                    const float fs = per_f ? detail::drop_scale(d, keys, f, 0, 0) : 1.0f;
                    for (std::size_t j = 0; j < ow; ++j) {
                        float v = d.relu && !(ys[j] > 0.0f) ? 0.0f : dys[j];
                        if (per_f) v *= fs;
                        else if (drop && v != 0.0f) v *= detail::drop_scale(d, keys, f, oy, j);
                        o[j] = v;
                    }
                }
            }
        }
        if (dz) std::copy(dyb, dyb + n * orow, dz + oy0 * orow);
        for (std::size_t r = 0; r < n; ++r)
            for (std::size_t f = 0; f < g.f; ++f) {
                const float* row = dyb + r * orow + f * p.owp;
                vfloat sum(0.0f);
                for (std::size_t j = 0; j < p.owp; j += VL) sum += vfloat::load_unaligned(row + j);
                db[f] += xsimd::hadd(sum);
            }
        if (!dz) weight_grad_rows(p, sc.ring, oy0, n, dyb, dw, ptrs);
        if (dx)
            for (std::size_t r = 0; r < n; ++r) input_grad_row(p, packed_wt, oy0 + r, dyb + r * orow, col, acc, ptrs);
    }
    if (dx) interleave_grad(p, acc, dx);
}

}  // namespace flowpic::nn::kernels::simd
