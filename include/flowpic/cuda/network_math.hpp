#pragma once
// The CUDA network kernels, one output element at a time, written once for the device and the
// host. Each op is a struct of plain values and pointers with count() (how many elements) and
// operator()(i) (element i, independent of every other element: no shared memory, no atomics,
// no ordering between threads). The library launches them as grid-stride loops on its stream
// (src/cuda/network_api.cu); the CPU unit tests call the very same ops for every i on host memory
// and compare with the scalar kernels, so that the index arithmetic is checked on any machine.
//
// Sums that would need atomics (parameter gradients, losses) are split into partial sums over a
// fixed plan and combined in a fixed order by a second op: results do not depend on scheduling.
// Float sums use fused multiply-adds on the device (single rounding); the optimisers spell their
// float64 arithmetic as _rn intrinsics so that they equal the CPU optimisers bit for bit.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "flowpic/core/counter_random.hpp"
#include "flowpic/core/host_device.hpp"
#include "flowpic/cuda/network_api.hpp"

namespace flowpic::cuda::nn_math {

using hd::dadd;
using hd::ddiv;
using hd::dexp;
using hd::dlog;
using hd::dlog1p;
using hd::dmul;
using hd::dsqrt;
using hd::dsub;
using hd::fexp;
using hd::fmadd;
using std::size_t;

FLOWPIC_HD size_t min_of(size_t a, size_t b) { return a < b ? a : b; }

// ---- convolution ---------------------------------------------------------------------------

inline constexpr unsigned conv_filters_per_thread = 16;

// One output pixel of up to 16 filters: x is read once per tap for all of them. Filters are
// split into equal groups (20 filters: two of 10), so that no thread idles through a short one.
struct conv_forward_op {
    flowpic_cuda_conv2d g;
    const float* w;
    const float* b;
    const float* x;
    float* y;
    size_t n;

    FLOWPIC_HD size_t groups() const { return (g.f + conv_filters_per_thread - 1) / conv_filters_per_thread; }
    FLOWPIC_HD size_t per_group() const { return (g.f + groups() - 1) / groups(); }
    FLOWPIC_HD size_t count() const { return n * groups() * g.oh * g.ow; }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t ox = i % g.ow, oy = i / g.ow % g.oh, t = i / (size_t{g.oh} * g.ow);
        const size_t fg = t % groups(), s = t / groups();
        const size_t f0 = fg * per_group();
        const size_t nf = min_of(per_group(), g.f - f0);
        const size_t K = size_t{g.c} * g.kh * g.kw;
        float acc[conv_filters_per_thread];
        for (unsigned j = 0; j < conv_filters_per_thread; ++j) acc[j] = j < nf ? b[f0 + j] : 0.0f;
        const long long iy0 = static_cast<long long>(oy * g.sh) - g.pt;
        const long long ix0 = static_cast<long long>(ox * g.sw) - g.pl;
        const size_t ky0 = iy0 < 0 ? static_cast<size_t>(-iy0) : 0;
        const size_t kx0 = ix0 < 0 ? static_cast<size_t>(-ix0) : 0;
        const long long ky_end = static_cast<long long>(g.h) - iy0, kx_end = static_cast<long long>(g.w) - ix0;
        const size_t ky1 = ky_end < static_cast<long long>(g.kh) ? static_cast<size_t>(ky_end < 0 ? 0 : ky_end) : g.kh;
        const size_t kx1 = kx_end < static_cast<long long>(g.kw) ? static_cast<size_t>(kx_end < 0 ? 0 : kx_end) : g.kw;
        for (size_t c = 0; c < g.c; ++c) {
            const float* xs = x + (s * g.c + c) * g.h * g.w;
            for (size_t ky = ky0; ky < ky1; ++ky) {
                const float* row = xs + static_cast<size_t>(iy0 + static_cast<long long>(ky)) * g.w;
                for (size_t kx = kx0; kx < kx1; ++kx) {
                    const float xv = row[static_cast<size_t>(ix0 + static_cast<long long>(kx))];
                    const float* wk = w + f0 * K + (c * g.kh + ky) * g.kw + kx;
                    for (unsigned j = 0; j < conv_filters_per_thread; ++j)
                        if (j < nf) acc[j] = fmadd(wk[j * K], xv, acc[j]);
                }
            }
        }
        for (unsigned j = 0; j < conv_filters_per_thread; ++j)
            if (j < nf) y[((s * g.f + f0 + j) * g.oh + oy) * g.ow + ox] = acc[j];
    }
};

// One input pixel's gradient: the taps that read it, over every filter (a gather, no atomics).
struct conv_backward_data_op {
    flowpic_cuda_conv2d g;
    const float* w;
    const float* dy;
    float* dx;
    size_t n;

    FLOWPIC_HD size_t count() const { return n * g.c * g.h * g.w; }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t ix = i % g.w, iy = i / g.w % g.h, t = i / (size_t{g.h} * g.w);
        const size_t c = t % g.c, s = t / g.c;
        const size_t ty = iy + g.pt, tx = ix + g.pl;  // padded coordinates = o * stride + k
        float acc = 0.0f;
        for (size_t ky = ty % g.sh; ky < g.kh && ky <= ty; ky += g.sh) {
            const size_t oy = (ty - ky) / g.sh;
            if (oy >= g.oh) continue;
            for (size_t kx = tx % g.sw; kx < g.kw && kx <= tx; kx += g.sw) {
                const size_t ox = (tx - kx) / g.sw;
                if (ox >= g.ow) continue;
                for (size_t f = 0; f < g.f; ++f)
                    acc = fmadd(w[((f * g.c + c) * g.kh + ky) * g.kw + kx], dy[((s * g.f + f) * g.oh + oy) * g.ow + ox],
                                acc);
            }
        }
        dx[i] = acc;
    }
};

// Weight and bias gradients in two steps: partial sums per (sample, band of output rows), then
// their sum in band order. Parameter k = K is the filter's bias (input 1).
struct conv_wgrad_plan {
    size_t bands = 1;   // bands of output rows per sample
    size_t rows = 1;    // rows per band
    size_t chunks = 1;  // samples x bands
    size_t per_chunk = 1;  // f * (K + 1) partial sums per chunk
};

// About 2^20 partial sums, so that the GPU has threads enough while each sums a band of rows.
inline conv_wgrad_plan plan_conv_wgrad(const flowpic_cuda_conv2d& g, size_t n) {
    conv_wgrad_plan p;
    p.per_chunk = size_t{g.f} * (size_t{g.c} * g.kh * g.kw + 1);
    const size_t target = size_t{1} << 20;
    size_t bands = (target + n * p.per_chunk - 1) / (n * p.per_chunk);
    if (bands < 1) bands = 1;
    if (bands > g.oh) bands = g.oh;
    p.rows = (g.oh + bands - 1) / bands;
    p.bands = (g.oh + p.rows - 1) / p.rows;
    p.chunks = n * p.bands;
    return p;
}

struct conv_wgrad_partial_op {
    flowpic_cuda_conv2d g;
    const float* x;
    const float* dy;
    float* partial;  // [chunks][f][K + 1]
    conv_wgrad_plan p;

    FLOWPIC_HD size_t count() const { return p.chunks * p.per_chunk; }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t K = size_t{g.c} * g.kh * g.kw;
        const size_t k = i % (K + 1), t = i / (K + 1);
        const size_t f = t % g.f, j = t / g.f;
        const size_t s = j / p.bands, band = j % p.bands;
        const size_t oy0 = band * p.rows, oy1 = min_of(g.oh, oy0 + p.rows);
        const float* dys = dy + (s * g.f + f) * g.oh * g.ow;
        float acc = 0.0f;
        if (k == K) {
            for (size_t oy = oy0; oy < oy1; ++oy)
                for (size_t ox = 0; ox < g.ow; ++ox) acc += dys[oy * g.ow + ox];
        } else {
            const size_t c = k / (size_t{g.kh} * g.kw), r = k % (size_t{g.kh} * g.kw);
            const size_t ky = r / g.kw, kx = r % g.kw;
            const float* xs = x + (s * g.c + c) * g.h * g.w;
            // columns whose tap lands inside the input: 0 <= ox * sw + kx - pl < w
            const size_t ox0 = kx >= g.pl ? 0 : (g.pl - kx + g.sw - 1) / g.sw;
            const size_t lim = g.w + g.pl - kx;  // ox * sw < lim (kx < kw <= padded width)
            const size_t ox1 = min_of(g.ow, kx < g.w + g.pl ? (lim + g.sw - 1) / g.sw : 0);
            for (size_t oy = oy0; oy < oy1; ++oy) {
                const size_t ty = oy * g.sh + ky;
                if (ty < g.pt || ty - g.pt >= g.h) continue;
                const float* row = xs + (ty - g.pt) * g.w;
                const float* drow = dys + oy * g.ow;
                for (size_t ox = ox0; ox < ox1; ++ox) acc = fmadd(drow[ox], row[ox * g.sw + kx - g.pl], acc);
            }
        }
        partial[i] = acc;
    }
};

struct conv_wgrad_reduce_op {
    const float* partial;
    size_t chunks;
    size_t f;
    size_t K;
    float* dw;
    float* db;

    FLOWPIC_HD size_t count() const { return f * (K + 1); }
    FLOWPIC_HD void operator()(size_t i) const {
        double acc = 0;
        for (size_t j = 0; j < chunks; ++j) acc += partial[j * count() + i];
        const size_t ff = i / (K + 1), k = i % (K + 1);
        float& d = k == K ? db[ff] : dw[ff * K + k];
        d = static_cast<float>(static_cast<double>(d) + acc);
    }
};

// ---- pooling -------------------------------------------------------------------------------

struct pool_forward_op {
    flowpic_cuda_pool2d g;
    const float* x;
    float* y;
    size_t n;

    FLOWPIC_HD size_t count() const { return n * g.c * g.oh * g.ow; }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t ox = i % g.ow, oy = i / g.ow % g.oh, t = i / (size_t{g.oh} * g.ow);
        const float* xs = x + t * g.h * g.w + oy * g.s * g.w + ox * g.s;
        float m = xs[0];
        for (size_t ky = 0; ky < g.k; ++ky)
            for (size_t kx = 0; kx < g.k; ++kx) {
                const float v = xs[ky * g.w + kx];
                m = m < v ? v : m;  // std::max: the first maximum stays
            }
        y[i] = m;
    }
};

// Input pixel i collects dy of every window whose first maximum it is, windows in row-major
// order (the order in which the scalar kernel adds them).
struct pool_backward_op {
    flowpic_cuda_pool2d g;
    const float* x;
    const float* dy;
    float* dx;
    size_t n;

    FLOWPIC_HD size_t count() const { return n * g.c * g.h * g.w; }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t ix = i % g.w, iy = i / g.w % g.h, t = i / (size_t{g.h} * g.w);
        const float* xs = x + t * g.h * g.w;
        const float* dys = dy + t * g.oh * g.ow;
        // windows o with o * s <= i < o * s + k
        const size_t oy0 = iy + 1 > g.k ? (iy + 1 - g.k + g.s - 1) / g.s : 0;
        const size_t ox0 = ix + 1 > g.k ? (ix + 1 - g.k + g.s - 1) / g.s : 0;
        const size_t oy1 = min_of(iy / g.s + 1, g.oh), ox1 = min_of(ix / g.s + 1, g.ow);
        const size_t me = iy * g.w + ix;
        float acc = 0.0f;
        for (size_t oy = oy0; oy < oy1; ++oy)
            for (size_t ox = ox0; ox < ox1; ++ox) {
                size_t best = oy * g.s * g.w + ox * g.s;
                for (size_t ky = 0; ky < g.k; ++ky)
                    for (size_t kx = 0; kx < g.k; ++kx) {
                        const size_t at = (oy * g.s + ky) * g.w + ox * g.s + kx;
                        if (xs[at] > xs[best]) best = at;
                    }
                if (best == me) acc += dys[oy * g.ow + ox];
            }
        dx[i] = acc;
    }
};

// ---- element-wise --------------------------------------------------------------------------

struct relu_forward_op {
    const float* x;
    float* y;
    size_t n;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t i) const { y[i] = x[i] > 0.0f ? x[i] : 0.0f; }
};
struct relu_backward_op {
    const float* y;
    const float* dy;
    float* dx;
    size_t n;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t i) const { dx[i] = y[i] > 0.0f ? dy[i] : 0.0f; }
};
struct sigmoid_forward_op {
    const float* x;
    float* y;
    size_t n;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t i) const {
        const float z = x[i];
        y[i] = z >= 0.0f ? 1.0f / (1.0f + fexp(-z)) : fexp(z) / (1.0f + fexp(z));
    }
};
struct sigmoid_backward_op {
    const float* y;
    const float* dy;
    float* dx;
    size_t n;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t i) const { dx[i] = dy[i] * y[i] * (1.0f - y[i]); }
};

struct dropout_op {
    flowpic_cuda_dropout d;
    const float* x;
    float* y;
    size_t n;
    size_t per_sample;
    FLOWPIC_HD size_t count() const { return n * per_sample; }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t s = i / per_sample, e = i % per_sample;
        const std::uint64_t key = stream_key(d.seed, d.step, d.layer, d.sample_base + s);
        y[i] = x[i] * (counter_bits(key, e / d.unit) >= d.threshold ? d.scale : 0.0f);  // -0 as on the CPU
    }
};

struct to_float_op {
    const void* src;
    std::uint32_t bytes;
    std::uint32_t kind;
    float* dst;
    size_t n;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t i) const {
        float v = 0.0f;
        if (kind == FLOWPIC_CUDA_VALUE_FLOAT) {
            v = bytes == 8 ? static_cast<float>(static_cast<const double*>(src)[i]) : static_cast<const float*>(src)[i];
        } else if (kind == FLOWPIC_CUDA_VALUE_SIGNED) {
            switch (bytes) {
                case 1: v = static_cast<float>(static_cast<const std::int8_t*>(src)[i]); break;
                case 2: v = static_cast<float>(static_cast<const std::int16_t*>(src)[i]); break;
                case 4: v = static_cast<float>(static_cast<const std::int32_t*>(src)[i]); break;
                default: v = static_cast<float>(static_cast<const std::int64_t*>(src)[i]); break;
            }
        } else {
            switch (bytes) {
                case 1: v = static_cast<float>(static_cast<const std::uint8_t*>(src)[i]); break;
                case 2: v = static_cast<float>(static_cast<const std::uint16_t*>(src)[i]); break;
                case 4: v = static_cast<float>(static_cast<const std::uint32_t*>(src)[i]); break;
                default: v = static_cast<float>(static_cast<const std::uint64_t*>(src)[i]); break;
            }
        }
        dst[i] = v;
    }
};

// ---- dense ---------------------------------------------------------------------------------

struct dense_forward_op {
    size_t in, out;
    const float* w;
    const float* b;
    const float* x;
    float* y;
    size_t n;
    FLOWPIC_HD size_t count() const { return n * out; }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t o = i % out, s = i / out;
        const float* wr = w + o * in;
        const float* xs = x + s * in;
        float acc = b[o];
        for (size_t k = 0; k < in; ++k) acc = fmadd(wr[k], xs[k], acc);
        y[i] = acc;
    }
};
struct dense_backward_data_op {
    size_t in, out;
    const float* w;
    const float* dy;
    float* dx;
    size_t n;
    FLOWPIC_HD size_t count() const { return n * in; }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t k = i % in, s = i / in;
        float acc = 0.0f;
        for (size_t o = 0; o < out; ++o) acc = fmadd(w[o * in + k], dy[s * out + o], acc);
        dx[i] = acc;
    }
};
// Element (o, k): weight o * in + k, or the bias of o for k = in.
struct dense_backward_params_op {
    size_t in, out;
    const float* x;
    const float* dy;
    float* dw;
    float* db;
    size_t n;
    FLOWPIC_HD size_t count() const { return out * (in + 1); }
    FLOWPIC_HD void operator()(size_t i) const {
        const size_t k = i % (in + 1), o = i / (in + 1);
        double acc = 0;
        if (k == in) {
            for (size_t s = 0; s < n; ++s) acc += dy[s * out + o];
            db[o] = static_cast<float>(static_cast<double>(db[o]) + acc);
        } else {
            for (size_t s = 0; s < n; ++s) acc += static_cast<double>(dy[s * out + o]) * x[s * in + k];
            dw[o * in + k] = static_cast<float>(static_cast<double>(dw[o * in + k]) + acc);
        }
    }
};

// ---- softmax and losses --------------------------------------------------------------------

struct softmax_forward_op {
    const float* x;
    float* y;
    size_t n, classes;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t s) const {
        const float* xs = x + s * classes;
        float* ys = y + s * classes;
        float m = xs[0];
        for (size_t c = 1; c < classes; ++c) m = m < xs[c] ? xs[c] : m;
        double sum = 0;
        for (size_t c = 0; c < classes; ++c) sum += dexp(static_cast<double>(xs[c] - m));
        for (size_t c = 0; c < classes; ++c) ys[c] = static_cast<float>(dexp(static_cast<double>(xs[c] - m)) / sum);
    }
};
struct softmax_backward_op {
    const float* y;
    const float* dy;
    float* dx;
    size_t n, classes;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t s) const {
        double dot = 0;
        for (size_t c = 0; c < classes; ++c) dot += static_cast<double>(dy[s * classes + c]) * y[s * classes + c];
        for (size_t c = 0; c < classes; ++c)
            dx[s * classes + c] = static_cast<float>(y[s * classes + c] * (dy[s * classes + c] - dot));
    }
};

// The loss accumulator of a context (device memory).
struct loss_state {
    double sum;
    double norm;
    std::int32_t bad_label;
    std::int32_t reserved;
};

// Step 1 (one element): the batch's weight sum and label check.
struct loss_norm_op {
    const std::int32_t* labels;
    const double* class_weights;
    size_t n, classes;  // classes of the labels (2 for the binary loss)
    loss_state* state;
    FLOWPIC_HD size_t count() const { return 1; }
    FLOWPIC_HD void operator()(size_t) const {
        double norm = 0;
        std::int32_t bad = 0;
        for (size_t s = 0; s < n; ++s) {
            const std::int32_t y = labels[s];
            if (y < 0 || static_cast<size_t>(y) >= classes) {
                bad = 1;
                continue;
            }
            norm += class_weights ? class_weights[y] : 1.0;
        }
        state->norm = norm;
        state->bad_label = bad;
    }
};

// Step 2 (one element per sample): its weighted loss and its logits' gradient (divided by norm).
struct cross_entropy_op {
    const float* logits;
    const std::int32_t* labels;
    const double* class_weights;
    size_t n, classes;
    const loss_state* state;
    double* losses;
    float* dlogits;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t s) const {
        const float* z = logits + s * classes;
        const std::int32_t y = labels[s];
        if (y < 0 || static_cast<size_t>(y) >= classes) {
            losses[s] = 0;
            if (dlogits)
                for (size_t c = 0; c < classes; ++c) dlogits[s * classes + c] = 0.0f;
            return;
        }
        const double w = class_weights ? class_weights[y] : 1.0, norm = state->norm;
        double m = z[0];
        for (size_t c = 1; c < classes; ++c) m = m < z[c] ? z[c] : m;
        double sum = 0;
        for (size_t c = 0; c < classes; ++c) sum += dexp(static_cast<double>(z[c]) - m);
        const double lse = m + dlog(sum);
        losses[s] = w * (lse - static_cast<double>(z[y]));
        if (dlogits)
            for (size_t c = 0; c < classes; ++c) {
                const double p = dexp(static_cast<double>(z[c]) - lse);
                dlogits[s * classes + c] = static_cast<float>(w * (p - (c == static_cast<size_t>(y) ? 1.0 : 0.0)) / norm);
            }
    }
};

struct binary_cross_entropy_op {
    const float* logits;
    const std::int32_t* labels;
    const double* class_weights;
    size_t n;
    const loss_state* state;
    double* losses;
    float* dlogits;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t s) const {
        const std::int32_t y = labels[s];
        if (y < 0 || y > 1) {
            losses[s] = 0;
            if (dlogits) dlogits[s] = 0.0f;
            return;
        }
        const double w = class_weights ? class_weights[y] : 1.0, z = logits[s];
        const double az = z < 0 ? -z : z;
        losses[s] = w * ((z > 0 ? z : 0.0) - z * y + dlog1p(dexp(-az)));
        if (dlogits) {
            const double p = z >= 0 ? 1 / (1 + dexp(-z)) : dexp(z) / (1 + dexp(z));
            dlogits[s] = static_cast<float>(w * (p - y) / state->norm);
        }
    }
};

// Step 3 (one element): the per-sample losses summed in sample order.
struct loss_sum_op {
    const double* losses;
    size_t n;
    loss_state* state;
    FLOWPIC_HD size_t count() const { return 1; }
    FLOWPIC_HD void operator()(size_t) const {
        double sum = 0;
        for (size_t s = 0; s < n; ++s) sum += losses[s];
        state->sum = sum;
    }
};

// ---- optimisers ----------------------------------------------------------------------------

// nn::adam::step for one parameter: step = lr / (1 - beta1^t), root2 = sqrt(1 - beta2^t),
// computed once on the host as the CPU optimiser does.
struct adam_op {
    double beta1, beta2, eps, step, root2;
    float* p;
    const float* g;
    double* m;
    double* v;
    size_t n;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t i) const {
        const double gi = g[i];
        const double mi = dadd(dmul(beta1, m[i]), dmul(dsub(1.0, beta1), gi));
        const double vi = dadd(dmul(beta2, v[i]), dmul(dmul(dsub(1.0, beta2), gi), gi));
        m[i] = mi;
        v[i] = vi;
        const double denom = dadd(ddiv(dsqrt(vi), root2), eps);
        p[i] = static_cast<float>(dsub(static_cast<double>(p[i]), ddiv(dmul(step, mi), denom)));
    }
};

struct sgd_op {
    double lr, momentum;
    int first;
    float* p;
    const float* g;
    double* v;
    size_t n;
    FLOWPIC_HD size_t count() const { return n; }
    FLOWPIC_HD void operator()(size_t i) const {
        if (momentum == 0.0) {
            p[i] = static_cast<float>(dsub(static_cast<double>(p[i]), dmul(lr, static_cast<double>(g[i]))));
            return;
        }
        const double vi = first ? static_cast<double>(g[i]) : dadd(dmul(momentum, v[i]), static_cast<double>(g[i]));
        v[i] = vi;
        p[i] = static_cast<float>(dsub(static_cast<double>(p[i]), dmul(lr, vi)));
    }
};

}  // namespace flowpic::cuda::nn_math
