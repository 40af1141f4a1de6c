#pragma once
// Convolutions of sparse inputs (a zero background and a list of non-zero cells): each cell
// scatters into the few outputs whose windows cover it, so the cost is cells x covering outputs x
// filters instead of every output x window. Two layers of the network use them:
//  - first_conv: the first convolution with its ReLU and max-pooling, forward and the parameter
//    gradients (the first layer needs no input gradient). Outputs no cell reaches hold the bias.
//  - second_conv: the convolution after it. Its input is the first stage's output, a per-filter
//    constant except where cells reached; its output is precomputed once for the constant map
//    (windows at the borders see padding, so it is a map, not a constant) and each sample adds
//    what its reached positions change: (value - constant) scattered like a cell. In training,
//    its weight gradient and the part of its input gradient the first stage needs come the same
//    way, from the reached positions and sums over the constant map.
// `reference` holds the plain loops, the oracle of both (tested against the dense reference).
// Layouts: weights [f][c][kh][kw] as the network keeps them, transposed here to [c][kh][kw][f]
// so the filters of one tap are contiguous.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

#include "flowpic/nn/kernels/geometry.hpp"

namespace flowpic::nn::kernels {

// The outputs [lo, hi) along one axis whose windows cover padded coordinate p.
struct cover {
    std::size_t lo = 0, hi = 0;
};
[[nodiscard]] constexpr cover covering(std::size_t p, std::size_t k, std::size_t s, std::size_t out) noexcept {
    const std::size_t lo = p >= k ? (p - k) / s + 1 : 0;
    const std::size_t hi = std::min(out, p / s + 1);
    return {lo, hi > lo ? hi : lo};
}

// Per-axis tables a kernel builds once in prepare(), so that its per-cell loops divide by nothing:
// which outputs cover each input coordinate, which pooled output each output falls in, and where
// each element of a pooling window lies.
struct axis_tables {
    static constexpr std::uint32_t dropped = 0xffffffffu;  // an output the pooling leaves out
    std::vector<cover> covers;           // input coordinate (unpadded) -> covering outputs
    std::vector<std::uint32_t> pooled;   // output -> pooled output, or dropped
    void build(std::size_t n, std::size_t pad, std::size_t k, std::size_t s, std::size_t out, std::size_t pool) {
        covers.resize(n);
        for (std::size_t i = 0; i < n; ++i) covers[i] = covering(i + pad, k, s, out);
        const std::size_t kept = out / pool;
        pooled.resize(out);
        for (std::size_t o = 0; o < out; ++o) pooled[o] = o / pool < kept ? static_cast<std::uint32_t>(o / pool) : dropped;
    }
    [[nodiscard]] std::size_t most() const noexcept {
        std::size_t m = 0;
        for (const cover& c : covers) m = std::max(m, c.hi - c.lo);
        return m;
    }
};

// Flat index -> (row, column) for a fixed width by a float64 reciprocal, corrected by one step
// (the estimate is within one of the quotient for every index below 2^32).
struct row_splitter {
    std::size_t w = 1;
    double inv = 1.0;
    void set(std::size_t width) noexcept {
        w = width;
        inv = 1.0 / static_cast<double>(width);
    }
    [[nodiscard]] std::size_t row(std::size_t i) const noexcept {
        std::size_t q = static_cast<std::size_t>(static_cast<double>(i) * inv);
        if (q * w > i) --q;
        else if ((q + 1) * w <= i) ++q;
        return q;
    }
};

// Offsets, in output positions of width `ow`, of a G x G pooling window's elements in row-major order.
inline std::vector<std::size_t> window_offsets(std::size_t pool, std::size_t ow) {
    std::vector<std::size_t> off(pool * pool);
    for (std::size_t e = 0; e < off.size(); ++e) off[e] = (e / pool) * ow + e % pool;
    return off;
}

namespace reference {

// y = conv(x) for one sample whose input is zero but at `cells` (flat row * w + col, distinct),
// `values` cell-major with g.c per cell. Sums in double, as the dense reference.
inline void sparse_conv2d_forward(const conv_geometry& g, const float* w, const float* b,
                                  std::span<const std::uint32_t> cells, std::span<const float> values, float* y) {
    std::vector<double> acc(g.out_size());
    for (std::size_t f = 0; f < g.f; ++f)
        for (std::size_t i = 0; i < g.oh * g.ow; ++i) acc[f * g.oh * g.ow + i] = b[f];
    for (std::size_t k = 0; k < cells.size(); ++k) {
        const std::size_t pr = cells[k] / g.w + g.pt, pc = cells[k] % g.w + g.pl;
        const cover ry = covering(pr, g.kh, g.sh, g.oh), rx = covering(pc, g.kw, g.sw, g.ow);
        for (std::size_t oy = ry.lo; oy < ry.hi; ++oy)
            for (std::size_t ox = rx.lo; ox < rx.hi; ++ox)
                for (std::size_t f = 0; f < g.f; ++f)
                    for (std::size_t c = 0; c < g.c; ++c)
                        acc[(f * g.oh + oy) * g.ow + ox] +=
                            double(w[((f * g.c + c) * g.kh + (pr - oy * g.sh)) * g.kw + (pc - ox * g.sw)]) *
                            values[k * g.c + c];
    }
    for (std::size_t i = 0; i < g.out_size(); ++i) y[i] = static_cast<float>(acc[i]);
}

// dw, db += the parameter gradients of that convolution given dy (dense, g.out_size()).
inline void sparse_conv2d_param_grad(const conv_geometry& g, std::span<const std::uint32_t> cells,
                                     std::span<const float> values, const float* dy, float* dw, float* db) {
    for (std::size_t f = 0; f < g.f; ++f) {
        double s = 0;
        for (std::size_t i = 0; i < g.oh * g.ow; ++i) s += dy[f * g.oh * g.ow + i];
        db[f] = static_cast<float>(db[f] + s);
    }
    std::vector<double> acc(g.weight_size(), 0.0);
    for (std::size_t k = 0; k < cells.size(); ++k) {
        const std::size_t pr = cells[k] / g.w + g.pt, pc = cells[k] % g.w + g.pl;
        const cover ry = covering(pr, g.kh, g.sh, g.oh), rx = covering(pc, g.kw, g.sw, g.ow);
        for (std::size_t oy = ry.lo; oy < ry.hi; ++oy)
            for (std::size_t ox = rx.lo; ox < rx.hi; ++ox)
                for (std::size_t f = 0; f < g.f; ++f)
                    for (std::size_t c = 0; c < g.c; ++c)
                        acc[((f * g.c + c) * g.kh + (pr - oy * g.sh)) * g.kw + (pc - ox * g.sw)] +=
                            double(dy[(f * g.oh + oy) * g.ow + ox]) * values[k * g.c + c];
    }
    for (std::size_t i = 0; i < g.weight_size(); ++i) dw[i] = static_cast<float>(dw[i] + acc[i]);
}

}  // namespace reference

namespace sparse {

// [f][c][kh][kw] -> [c][kh][kw][f], `stride` >= g.f floats per tap (the rest left as they are)
inline void transpose_filters(const conv_geometry& g, const float* w, float* wt, std::size_t stride) {
    const std::size_t k = g.k();
    for (std::size_t f = 0; f < g.f; ++f)
        for (std::size_t i = 0; i < k; ++i) wt[i * stride + f] = w[f * k + i];
}

// Per-thread buffers, sized on first use and left clean (slots and marks zero) between samples.
// The sums of reached positions sit in slots packed in reach order, not at their positions: a
// sample's few thousand positions then stay in cache from one sample to the next.
struct first_scratch {
    std::vector<float> acc;               // [slot][f]: sums of the reached positions, in reach order
    std::vector<std::uint32_t> slot;      // conv position -> 1 + its slot in acc; 0: not reached
    std::vector<std::uint32_t> touched;   // reached conv positions
    std::vector<std::uint8_t> pmark;      // pooled position reached
    std::vector<std::uint32_t> ptouched;  // reached pooled positions, in first-reach order
    std::vector<std::uint32_t> prow, pcol;  // their rows and columns
    std::vector<float> pvals;             // [reached pooled][f]: the stage's output there
    std::vector<std::uint8_t> winners;    // [reached pooled][f]: window element, 255: dead
    std::vector<float> dwt;               // [c][kh][kw][f]: weight gradient of one sample
};

// The first convolution with an optional ReLU and a G x G max-pooling of stride G (G = 1: none)
// on one sample: outputs every position a cell reaches; elsewhere the stage's output is
// constant(f) (the bias through ReLU and pooling). Pooling picks the first maximum, and a ReLU
// that zeroed the whole window passes no gradient, as the dense kernels do. F filters and C input
// channels are compile-time constants so that the loops over filters vectorise whole.
template <std::size_t F, std::size_t C>
class first_conv {
public:
    void prepare(const conv_geometry& g, std::size_t pool, bool relu, const float* w, const float* b) {
        if (g.f != F || g.c != C) throw std::invalid_argument("sparse::first_conv: filters or channels differ");
        g_ = g;
        G_ = pool;
        relu_ = relu;
        ph_ = g.oh / pool;
        pw_ = g.ow / pool;
        ys_.build(g.h, g.pt, g.kh, g.sh, g.oh, pool);
        xs_.build(g.w, g.pl, g.kw, g.sw, g.ow, pool);
        most_covered_ = ys_.most() * xs_.most();
        rows_.set(g.w);
        win_ = window_offsets(pool, g.ow);
        wt_.resize(g.weight_size());
        transpose_filters(g, w, wt_.data(), F);
        b_.assign(b, b + g.f);
        const_.resize(g.f);
        for (std::size_t f = 0; f < g.f; ++f) const_[f] = relu && !(b[f] > 0.0f) ? 0.0f : b[f];
    }
    [[nodiscard]] const conv_geometry& geometry() const noexcept { return g_; }
    [[nodiscard]] std::size_t out_h() const noexcept { return ph_; }
    [[nodiscard]] std::size_t out_w() const noexcept { return pw_; }
    [[nodiscard]] std::size_t out_size() const noexcept { return g_.f * ph_ * pw_; }
    [[nodiscard]] std::span<const float> constants() const noexcept { return const_; }

    // Fills s.ptouched / pvals / winners for one sample; marks stay set until release(s).
    void forward(std::span<const std::uint32_t> cells, std::span<const float> values, first_scratch& s) const {
        const std::size_t positions = g_.oh * g_.ow;
        if (s.slot.size() < positions) s.slot.assign(positions, 0);
        // at most every position that a cell's windows cover, and never more than all of them
        const std::size_t most = std::min(positions, cells.size() * most_covered_);
        if (s.acc.size() < most * F) s.acc.resize(most * F);
        if (s.pmark.size() < ph_ * pw_) s.pmark.assign(ph_ * pw_, 0);
        s.touched.clear();
        s.ptouched.clear();
        s.prow.clear();
        s.pcol.clear();
        float* acc = s.acc.data();
        const float* wt = wt_.data();
        for (std::size_t k = 0; k < cells.size(); ++k) {
            const std::size_t r = rows_.row(cells[k]), col = cells[k] - r * g_.w;
            if (r >= g_.h) throw std::out_of_range("sparse::first_conv: a cell outside the picture");
            const std::size_t pr = r + g_.pt, pc = col + g_.pl;
            const cover ry = ys_.covers[r], rx = xs_.covers[col];
            const float* v = values.data() + k * C;
            for (std::size_t oy = ry.lo; oy < ry.hi; ++oy)
                for (std::size_t ox = rx.lo; ox < rx.hi; ++ox) {
                    const std::size_t pos = oy * g_.ow + ox;
                    std::uint32_t slot = s.slot[pos];
                    if (!slot) {
                        s.touched.push_back(static_cast<std::uint32_t>(pos));
                        slot = static_cast<std::uint32_t>(s.touched.size());
                        s.slot[pos] = slot;
                        std::fill_n(acc + (slot - 1) * F, F, 0.0f);
                        // its pooled position, in the order positions are first reached
                        const std::uint32_t py = ys_.pooled[oy], px = xs_.pooled[ox];
                        if (py != axis_tables::dropped && px != axis_tables::dropped) {
                            const std::size_t pp = py * pw_ + px;
                            if (!s.pmark[pp]) {
                                s.pmark[pp] = 1;
                                s.ptouched.push_back(static_cast<std::uint32_t>(pp));
                                s.prow.push_back(py);
                                s.pcol.push_back(px);
                            }
                        }
                    }
                    float* a = acc + (slot - 1) * F;
                    const std::size_t tap = (pr - oy * g_.sh) * g_.kw + (pc - ox * g_.sw);
                    for (std::size_t c = 0; c < C; ++c) {
                        const float x = v[c];
                        const float* wk = wt + (c * g_.kh * g_.kw + tap) * F;
                        for (std::size_t f = 0; f < F; ++f) a[f] += wk[f] * x;
                    }
                }
        }
        s.pvals.resize(s.ptouched.size() * F);
        s.winners.resize(s.ptouched.size() * F);
        static constexpr float zeros[F] = {};
        const float lo = relu_ ? 0.0f : -std::numeric_limits<float>::infinity();
        for (std::size_t t = 0; t < s.ptouched.size(); ++t) {
            const std::size_t corner = s.prow[t] * G_ * g_.ow + s.pcol[t] * G_;
            // branch-free over the filters: the window's elements in order, first maximum wins
            float best[F], u[F];
            std::uint32_t win[F];
            for (std::size_t e = 0; e < win_.size(); ++e) {
                const std::size_t pos = corner + win_[e];
                const std::uint32_t slot = s.slot[pos];
                const float* a = slot ? acc + (slot - 1) * F : zeros;
                for (std::size_t f = 0; f < F; ++f) {
                    const float v = b_[f] + a[f];
                    u[f] = v > lo ? v : lo;  // ReLU: max(v, 0) (NaN -> 0); else v
                }
                if (e == 0) {
                    for (std::size_t f = 0; f < F; ++f) {
                        best[f] = u[f];
                        win[f] = 0;
                    }
                } else {
                    for (std::size_t f = 0; f < F; ++f) {
                        const bool gt = u[f] > best[f];
                        best[f] = gt ? u[f] : best[f];
                        win[f] = gt ? static_cast<std::uint32_t>(e) : win[f];
                    }
                }
            }
            float* out = s.pvals.data() + t * F;
            std::uint8_t* w = s.winners.data() + t * F;
            for (std::size_t f = 0; f < F; ++f) {
                out[f] = best[f];
                w[f] = relu_ && !(best[f] > 0.0f) ? std::uint8_t{255} : static_cast<std::uint8_t>(win[f]);
            }
        }
    }

    // The stage's dense output (f x out_h x out_w) of the sample forward() saw.
    void write(const first_scratch& s, float* y) const {
        const std::size_t plane = ph_ * pw_;
        for (std::size_t f = 0; f < F; ++f) std::fill_n(y + f * plane, plane, const_[f]);
        for (std::size_t t = 0; t < s.ptouched.size(); ++t)
            for (std::size_t f = 0; f < F; ++f) y[f * plane + s.ptouched[t]] = s.pvals[t * F + f];
    }

    // dw, db += the parameter gradients of the sample forward() saw, given the gradient dy of
    // the stage's output (dense f x out_h x out_w).
    void backward(std::span<const std::uint32_t> cells, std::span<const float> values, const float* dy,
                  first_scratch& s, float* dw, float* db) const {
        const std::size_t plane = ph_ * pw_;
        double rest[F];  // the gradient summed over the positions no cell reached, per filter
        for (std::size_t f = 0; f < F; ++f) {
            const float* d = dy + f * plane;
            double sum = 0;
            for (std::size_t p = 0; p < plane; ++p) sum += s.pmark[p] ? 0.0f : d[p];
            rest[f] = sum;
        }
        gradients(cells, values, [&](std::size_t t, std::size_t f) { return dy[f * plane + s.ptouched[t]]; }, rest, s,
                  dw, db);
    }

    // The same given the gradient of the stage's output only where cells reached (`reached`,
    // [reached pooled position][f] in forward()'s order) and its sum per filter over the positions
    // they did not (`rest`): what second_conv::backward computes.
    void backward(std::span<const std::uint32_t> cells, std::span<const float> values, const float* reached,
                  const double* rest, first_scratch& s, float* dw, float* db) const {
        gradients(cells, values, [&](std::size_t t, std::size_t f) { return reached[t * F + f]; }, rest, s, dw, db);
    }

private:
    template <class Grad>
    void gradients(std::span<const std::uint32_t> cells, std::span<const float> values, Grad&& grad, const double* rest,
                   first_scratch& s, float* dw, float* db) const {
        // bias: every position whose winner is live; unreached windows pass theirs when the
        // bias survives the ReLU (their first element wins a tie of equal values)
        for (std::size_t f = 0; f < F; ++f) {
            if (relu_ && !(b_[f] > 0.0f)) continue;
            db[f] = static_cast<float>(db[f] + rest[f]);
        }
        float* acc = s.acc.data();  // now the gradient at reached conv positions
        std::fill_n(acc, s.touched.size() * F, 0.0f);
        for (std::size_t t = 0; t < s.ptouched.size(); ++t) {
            const std::size_t corner = s.prow[t] * G_ * g_.ow + s.pcol[t] * G_;
            for (std::size_t f = 0; f < F; ++f) {
                const std::uint8_t e = s.winners[t * F + f];
                if (e == 255) continue;
                const float g = grad(t, f);
                db[f] += g;
                const std::size_t pos = corner + win_[e];
                if (const std::uint32_t slot = s.slot[pos]) acc[(slot - 1) * F + f] = g;  // an unreached winner sees zeros only
            }
        }
        s.dwt.assign(g_.weight_size(), 0.0f);
        float* dwt = s.dwt.data();
        for (std::size_t k = 0; k < cells.size(); ++k) {
            const std::size_t r = rows_.row(cells[k]), col = cells[k] - r * g_.w;
            const std::size_t pr = r + g_.pt, pc = col + g_.pl;
            const cover ry = ys_.covers[r], rx = xs_.covers[col];
            const float* v = values.data() + k * C;
            for (std::size_t oy = ry.lo; oy < ry.hi; ++oy)
                for (std::size_t ox = rx.lo; ox < rx.hi; ++ox) {
                    const float* a = acc + (s.slot[oy * g_.ow + ox] - 1) * F;
                    const std::size_t tap = (pr - oy * g_.sh) * g_.kw + (pc - ox * g_.sw);
                    for (std::size_t c = 0; c < C; ++c) {
                        const float x = v[c];
                        float* d = dwt + (c * g_.kh * g_.kw + tap) * F;
                        for (std::size_t f = 0; f < F; ++f) d[f] += a[f] * x;
                    }
                }
        }
        const std::size_t K = g_.k();
        for (std::size_t f = 0; f < F; ++f)
            for (std::size_t i = 0; i < K; ++i) dw[f * K + i] += dwt[i * F + f];
    }

public:
    // Clears the marks forward() set.
    void release(first_scratch& s) const {
        for (auto pos : s.touched) s.slot[pos] = 0;
        for (auto pp : s.ptouched) s.pmark[pp] = 0;
    }

private:
    conv_geometry g_{};
    std::size_t G_ = 1, ph_ = 1, pw_ = 1;
    bool relu_ = false;
    axis_tables ys_, xs_;
    std::size_t most_covered_ = 1;  // the most outputs one cell's windows cover
    row_splitter rows_;
    std::vector<std::size_t> win_;
    std::vector<float> wt_, b_, const_;
};

struct second_scratch {
    std::vector<float> pre;  // [position][f, padded]
    std::vector<float> dzt;  // [position][f, padded]: an output gradient, filters innermost
    std::vector<double> sums;  // [(row + 1) x (cols + 1)][f, padded]: its prefix sums
    std::vector<float> dwt;    // [c][kh][kw][f, padded]: the weight gradient at reached inputs
};

// The second convolution, with an optional ReLU and G x G pooling, on the output of first_conv: a
// constant map but at the positions the cells reached. F filters, C channels. forward() is its
// output at inference; in training the engine runs it forward, and backward() gives its weight
// gradient and what the first stage needs of its input gradient (the values where cells reached,
// the sum elsewhere), both from the few outputs that cover reached positions and sums over
// rectangles of the output gradient for the constant map.
template <std::size_t F, std::size_t C>
class second_conv {
    // filters padded to whole vectors of 8 floats in the sums and weights, so the loop over the
    // filters of one tap is whole vector operations (padding filters: zero weights, never read out)
    static constexpr std::size_t P = (F + 7) / 8 * 8;

public:
    // constants: the first stage's output where no cell reached, one per input channel.
    void prepare(const conv_geometry& g, std::size_t pool, bool relu, const float* w, const float* b,
                 std::span<const float> constants) {
        if (g.f != F || g.c != C) throw std::invalid_argument("sparse::second_conv: filters or channels differ");
        g_ = g;
        G_ = pool;
        relu_ = relu;
        ph_ = g.oh / pool;
        pw_ = g.ow / pool;
        ys_.build(g.h, g.pt, g.kh, g.sh, g.oh, pool);
        xs_.build(g.w, g.pl, g.kw, g.sw, g.ow, pool);
        win_ = window_offsets(pool, g.ow);
        // per kernel row (column): the outputs whose tap there falls inside the picture
        rows_in_.assign(g.kh, {0, 0});
        cols_in_.assign(g.kw, {0, 0});
        for (std::size_t k = 0; k < g.kh; ++k) rows_in_[k] = inside(k, g.sh, g.pt, g.h, g.oh, g.kh);
        for (std::size_t k = 0; k < g.kw; ++k) cols_in_[k] = inside(k, g.sw, g.pl, g.w, g.ow, g.kw);
        wt_.assign(g.k() * P, 0.0f);
        transpose_filters(g, w, wt_.data(), P);
        const_.assign(constants.begin(), constants.end());
        // the output on the constant map: bias + sum over c of const[c] x (the filter's taps that
        // fall inside the picture), a rectangle of each filter plane, read from prefix sums
        const std::size_t KH = g.kh, KW = g.kw;
        std::vector<double> pre((KH + 1) * (KW + 1));
        base_.assign(g.oh * g.ow * P, 0.0f);
        rect_.assign(g.oh * g.ow * C * P, 0.0f);
        std::vector<double> sum(g.oh * g.ow * F, 0.0);
        for (std::size_t f = 0; f < F; ++f)
            for (std::size_t c = 0; c < g.c; ++c) {
                const float* wf = w + (f * g.c + c) * KH * KW;
                for (std::size_t i = 0; i <= KH; ++i)
                    for (std::size_t j = 0; j <= KW; ++j)
                        pre[i * (KW + 1) + j] = i == 0 || j == 0 ? 0.0
                                                                 : wf[(i - 1) * KW + j - 1] + pre[(i - 1) * (KW + 1) + j] +
                                                                       pre[i * (KW + 1) + j - 1] -
                                                                       pre[(i - 1) * (KW + 1) + j - 1];
                for (std::size_t oy = 0; oy < g.oh; ++oy) {
                    const auto [y0, y1] = taps(oy, g.sh, g.pt, g.h, KH);
                    for (std::size_t ox = 0; ox < g.ow; ++ox) {
                        const auto [x0, x1] = taps(ox, g.sw, g.pl, g.w, KW);
                        const double r = pre[y1 * (KW + 1) + x1] - pre[y0 * (KW + 1) + x1] - pre[y1 * (KW + 1) + x0] +
                                         pre[y0 * (KW + 1) + x0];
                        sum[(oy * g.ow + ox) * F + f] += r * const_[c];
                        rect_[((oy * g.ow + ox) * C + c) * P + f] = static_cast<float>(r);
                    }
                }
            }
        for (std::size_t i = 0; i < sum.size(); ++i) base_[i / F * P + i % F] = static_cast<float>(b[i % F] + sum[i]);
    }
    [[nodiscard]] std::size_t out_size() const noexcept { return g_.f * ph_ * pw_; }

    // y (f x out_h x out_w): the stage's output for the first stage's sample in fs.
    void forward(const first_scratch& fs, second_scratch& s, float* y) const {
        const std::size_t KK = g_.kh * g_.kw;
        s.pre.assign(base_.begin(), base_.end());
        float* pre = s.pre.data();
        const float* wt = wt_.data();
        for_each_change(fs, [&](const float* d, std::size_t o, std::size_t tap) {
            float* a = pre + o * P;
            float sums[P];  // in registers across the channels (a and the weights may alias)
            for (std::size_t f = 0; f < P; ++f) sums[f] = a[f];
            for (std::size_t c = 0; c < C; ++c) {
                if (d[c] == 0.0f) continue;
                const float x = d[c];
                const float* wk = wt + (c * KK + tap) * P;
                for (std::size_t f = 0; f < P; ++f) sums[f] += wk[f] * x;
            }
            for (std::size_t f = 0; f < P; ++f) a[f] = sums[f];
        });
        const float lo = relu_ ? 0.0f : -std::numeric_limits<float>::infinity();
        for (std::size_t py = 0; py < ph_; ++py)
            for (std::size_t px = 0; px < pw_; ++px) {
                float best[F];
                const std::size_t corner = py * G_ * g_.ow + px * G_;
                for (std::size_t e = 0; e < win_.size(); ++e) {
                    const float* a = pre + (corner + win_[e]) * P;
                    for (std::size_t f = 0; f < F; ++f) {
                        const float u = a[f] > lo ? a[f] : lo;
                        best[f] = e == 0 || u > best[f] ? u : best[f];
                    }
                }
                for (std::size_t f = 0; f < F; ++f) y[(f * ph_ + py) * pw_ + px] = best[f];
            }
    }

    // From dz, the gradient of this convolution's output before ReLU and pooling for the sample in
    // fs (`rows` rows of [f][column] with `cols` columns: the engine's layout, nn::detail::engine::
    // backward_to_output_grad; rows and columns past those hold zero gradient): dw ([f][c][kh][kw])
    // += the weight gradient; dx ([reached][c], fs's order) = the input gradient at the first
    // stage's reached positions; rest[c] = its sum over the other input positions (what
    // first_conv::backward takes).
    void backward(const first_scratch& fs, const float* dz, std::size_t rows, std::size_t cols, second_scratch& s,
                  float* dx, double* rest, float* dw) const {
        const std::size_t OH = g_.oh, OW = g_.ow, KK = g_.kh * g_.kw;
        s.dzt.assign(OH * OW * P, 0.0f);
        float* z = s.dzt.data();
        const std::size_t nr = std::min(rows, OH), nc = std::min(cols, OW);
        for (std::size_t oy = 0; oy < nr; ++oy)
            for (std::size_t f = 0; f < F; ++f) {
                const float* src = dz + (oy * F + f) * cols;
                for (std::size_t ox = 0; ox < nc; ++ox) z[(oy * OW + ox) * P + f] = src[ox];
            }
        // the sum over all inputs: each output's gradient times its filter's taps inside the picture
        double acc[C][P] = {};
        for (std::size_t o = 0; o < OH * OW; ++o) {
            const float* zo = z + o * P;
            const float* ro = rect_.data() + o * C * P;
            for (std::size_t c = 0; c < C; ++c)
                for (std::size_t f = 0; f < P; ++f) acc[c][f] += double(ro[c * P + f]) * double(zo[f]);
        }
        for (std::size_t c = 0; c < C; ++c) {
            double t = 0;
            for (std::size_t f = 0; f < P; ++f) t += acc[c][f];
            rest[c] = t;  // all inputs, less the reached ones below
        }
        weight_grad(fs, s, dw);
        // the reached inputs: a transposed convolution over the outputs whose windows cover them
        const float* wt = wt_.data();
        for (std::size_t t = 0; t < fs.ptouched.size(); ++t) {
            const std::size_t r = fs.prow[t], col = fs.pcol[t];
            const std::size_t pr = r + g_.pt, pc = col + g_.pl;
            const cover ry = ys_.covers[r], rx = xs_.covers[col];
            float g[C][P] = {};
            for (std::size_t oy = ry.lo; oy < ry.hi; ++oy)
                for (std::size_t ox = rx.lo; ox < rx.hi; ++ox) {
                    const float* zo = z + (oy * OW + ox) * P;
                    const std::size_t tap = (pr - oy * g_.sh) * g_.kw + (pc - ox * g_.sw);
                    for (std::size_t c = 0; c < C; ++c) {
                        const float* wk = wt + (c * KK + tap) * P;
                        for (std::size_t f = 0; f < P; ++f) g[c][f] += wk[f] * zo[f];
                    }
                }
            for (std::size_t c = 0; c < C; ++c) {
                float v = 0;
                for (std::size_t f = 0; f < P; ++f) v += g[c][f];
                dx[t * C + c] = v;
                rest[c] -= v;
            }
        }
    }

private:
    // dw += the weight gradient from s.dzt: over the constant map, const[c] times the output
    // gradient summed over the outputs whose tap lies inside the picture (a rectangle, from prefix
    // sums); at reached inputs, (value - const) times the gradient of the outputs covering them.
    void weight_grad(const first_scratch& fs, second_scratch& s, float* dw) const {
        const std::size_t OH = g_.oh, OW = g_.ow, KK = g_.kh * g_.kw, W1 = OW + 1;
        const float* z = s.dzt.data();
        s.sums.assign((OH + 1) * W1 * P, 0.0);
        double* ps = s.sums.data();
        for (std::size_t oy = 0; oy < OH; ++oy)
            for (std::size_t ox = 0; ox < OW; ++ox) {
                double* o = ps + ((oy + 1) * W1 + ox + 1) * P;
                const double* up = ps + (oy * W1 + ox + 1) * P;
                const double* left = ps + ((oy + 1) * W1 + ox) * P;
                const double* diag = ps + (oy * W1 + ox) * P;
                const float* zo = z + (oy * OW + ox) * P;
                for (std::size_t f = 0; f < P; ++f) o[f] = double(zo[f]) + up[f] + left[f] - diag[f];
            }
        s.dwt.assign(C * KK * P, 0.0f);
        float* dwt = s.dwt.data();
        for_each_change(fs, [&](const float* d, std::size_t o, std::size_t tap) {
            const float* zo = z + o * P;
            for (std::size_t c = 0; c < C; ++c) {
                if (d[c] == 0.0f) continue;
                float* a = dwt + (c * KK + tap) * P;
                for (std::size_t f = 0; f < P; ++f) a[f] += d[c] * zo[f];
            }
        });
        for (std::size_t ky = 0; ky < g_.kh; ++ky)
            for (std::size_t kx = 0; kx < g_.kw; ++kx) {
                const auto [y0, y1] = rows_in_[ky];
                const auto [x0, x1] = cols_in_[kx];
                const double* a = ps + (y1 * W1 + x1) * P;
                const double* b = ps + (y0 * W1 + x1) * P;
                const double* e = ps + (y1 * W1 + x0) * P;
                const double* h = ps + (y0 * W1 + x0) * P;
                const std::size_t tap = ky * g_.kw + kx;
                for (std::size_t f = 0; f < F; ++f) {
                    const double rect = a[f] - b[f] - e[f] + h[f];
                    for (std::size_t c = 0; c < C; ++c) {
                        float& out = dw[(f * C + c) * KK + tap];
                        out = static_cast<float>(out + (double(const_[c]) * rect + double(dwt[(c * KK + tap) * P + f])));
                    }
                }
            }
    }

    // fn(d, o, tap) for each reached position of fs whose value differs from the constant map
    // (d: value - constant, per channel) and each output o (flat) whose window covers it, with
    // the tap that sees it there.
    template <class Fn>
    void for_each_change(const first_scratch& fs, Fn&& fn) const {
        float d[C];
        for (std::size_t t = 0; t < fs.ptouched.size(); ++t) {
            bool any = false;
            for (std::size_t c = 0; c < C; ++c) {
                d[c] = fs.pvals[t * C + c] - const_[c];
                any = any || d[c] != 0.0f;
            }
            if (!any) continue;
            const std::size_t r = fs.prow[t], col = fs.pcol[t];
            const std::size_t pr = r + g_.pt, pc = col + g_.pl;
            const cover ry = ys_.covers[r], rx = xs_.covers[col];
            for (std::size_t oy = ry.lo; oy < ry.hi; ++oy)
                for (std::size_t ox = rx.lo; ox < rx.hi; ++ox)
                    fn(static_cast<const float*>(d), oy * g_.ow + ox,
                       (pr - oy * g_.sh) * g_.kw + (pc - ox * g_.sw));
        }
    }

    // The outputs [lo, hi) of `out` whose tap t of a kernel of k falls inside an input of n: those
    // whose taps() hold it (a contiguous run, as the taps move with the output).
    static std::pair<std::size_t, std::size_t> inside(std::size_t t, std::size_t s, std::size_t pad, std::size_t n,
                                                      std::size_t out, std::size_t k) {
        std::size_t lo = out, hi = 0;
        for (std::size_t o = 0; o < out; ++o) {
            const auto [k0, k1] = taps(o, s, pad, n, k);
            if (k0 <= t && t < k1) {
                lo = std::min(lo, o);
                hi = o + 1;
            }
        }
        return lo < hi ? std::pair{lo, hi} : std::pair<std::size_t, std::size_t>{0, 0};
    }

    conv_geometry g_{};
    std::size_t G_ = 1, ph_ = 1, pw_ = 1;
    bool relu_ = false;
    axis_tables ys_, xs_;
    std::vector<std::size_t> win_;
    std::vector<float> wt_, const_, base_;
    std::vector<float> rect_;  // [output][c][f, padded]: the sum of filter f's taps inside the picture
    std::vector<std::pair<std::size_t, std::size_t>> rows_in_, cols_in_;  // per kernel row / column

    // Kernel taps [k0, k1) of output o that fall inside an input of n (padding pad before).
    struct tap_range {
        std::size_t k0, k1;
    };
    static tap_range taps(std::size_t o, std::size_t s, std::size_t pad, std::size_t n, std::size_t k) {
        const std::size_t start = o * s;  // padded coordinate of tap 0
        const std::size_t k0 = start < pad ? std::min(k, pad - start) : 0;
        const std::size_t end = pad + n;  // first padded coordinate past the input
        const std::size_t k1 = start >= end ? 0 : std::min(k, end - start);
        return {k0, std::max(k0, k1)};
    }
};

}  // namespace sparse

}  // namespace flowpic::nn::kernels
