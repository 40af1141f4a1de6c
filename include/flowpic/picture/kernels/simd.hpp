#pragma once
// The simd histogram kernel (xsimd): step 1 of picture/kernels/scalar.hpp (the float64 time formula,
// size bins and cell indices), several packets per instruction at the ISA of backend/simd_arch.hpp.
//
// Exactness. The scalar formula v = ((q / D) - x0) / S * bins costs two or three divisions per
// packet. Here v is first estimated with one multiplication, v' = (q - q0) * (bins / (S * D)),
// whose distance to the exact v is provably below
//     tol = 2^-48 * (|x0| * bins / |S| + bins + |v'|)
// (each of the at most six roundings involved is within 2^-53 relative; tol keeps a factor > 4
// in reserve). The bin of v' is the bin of v unless v' lies within tol of an integer (a bin edge,
// 0, or bins itself); for a vector with such a lane, or with a non-finite estimate, the exact
// scalar-order formula is evaluated instead, with correctly rounded vector divisions. Either way
// every lane equals the scalar kernel bit for bit (tests: fixtures with times on bin edges,
// random and real blocks, against the scalar oracle).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "flowpic/backend/backend.hpp"
#include "flowpic/backend/simd_arch.hpp"
#include "flowpic/picture/kernels/scalar.hpp"
#include "flowpic/picture/time_axis.hpp"

namespace flowpic::picture::kernel {

namespace detail {

template <class H, class Arch>
void bin_cells_simd(const packet* p, std::size_t n, const time_params& tp, const size_table& lut, std::uint32_t* out) {
    using A = typename H::time_axis_type;
    using C = typename A::clock;
    using S = typename H::size_axis_type;
    using batch = xsimd::batch<double, Arch>;
    constexpr std::size_t lanes = batch::size;
    constexpr std::size_t chunk = 512;
    static_assert(chunk % lanes == 0);
    alignas(64) double xq[chunk];
    alignas(64) std::int64_t si[chunk];
    alignas(64) double cell_out[chunk];
    using ibatch = xsimd::batch<std::int64_t, Arch>;
    static_assert(ibatch::size == lanes);

    const batch x0(tp.x0), span(tp.span), bins(tp.bins), last(tp.bins - 1.0), zero(0.0);
    const batch width(static_cast<double>(H::width)), dump(static_cast<double>(H::cells));
    // the multiply estimate and its error bound (see above)
    const double scale = tp.bins / (tp.span * C::divisor);
    const double a = std::fabs(tp.x0) * tp.bins / std::fabs(tp.span) + tp.bins;
    const bool fast = std::isfinite(scale) && scale != 0.0 && std::isfinite(a) && a < 0x1p30 &&
                      (A::end == window_end::closed || tp.span > 0.0);
    const batch vscale(scale), q0(static_cast<double>(tp.q0)), ta(a), tk(0x1p-48), huge(0x1p40);

    const std::int64_t origin = tp.origin;
    for (std::size_t base = 0; base < n; base += chunk) {
        const std::size_t len = std::min(chunk, n - base);
        const packet* q = p + base;
        // integer part of the clock (exact), then to float64 (exact below 2^53); size table indices
        for (std::size_t i = 0; i < len; ++i) {
            xq[i] = static_cast<double>(quantise<C>(q[i].time_ns - origin));
            si[i] = static_cast<std::int64_t>(size_lut_index<S>(q[i].size));
        }
        const std::size_t padded = (len + lanes - 1) / lanes * lanes;
        for (std::size_t i = len; i < padded; ++i) {
            xq[i] = static_cast<double>(tp.q0);
            si[i] = S::max_size + 1;
        }
        for (std::size_t i = 0; i < padded; i += lanes) {
            const batch xv = batch::load_aligned(xq + i);
            batch v(0.0);
            bool exact = !fast;
            if (fast) {
                v = (xv - q0) * vscale;  // xv - q0: a difference of integers, exact
                const batch dist = xsimd::abs(v - xsimd::nearbyint(v));
                const auto unsure = (dist <= tk * (ta + xsimd::abs(v))) | !(xsimd::abs(v) < huge);
                exact = xsimd::any(unsure);
            }
            auto valid = (v >= zero) & (v <= bins);  // far from every edge: v' < bins <=> u < S
            if (exact) {  // the scalar kernel's operations, in its order
                batch x = xv;
                if constexpr (C::divisor != 1.0) x = x / batch(C::divisor);
                const batch u = x - x0;
                v = u / span * bins;
                valid = (v >= zero) & (v <= bins);
                if constexpr (A::end == window_end::open) valid = valid & (u < span);
            }
            const batch t = xsimd::min(xsimd::floor(v), last);
            const batch s = batch::gather(lut.bins_f64, ibatch::load_aligned(si + i));
            valid = valid & (s >= zero);
            const batch cell = H::time_in_rows ? t * width + s : s * width + t;  // exact integers
            xsimd::select(valid, cell, dump).store_aligned(cell_out + i);
        }
        for (std::size_t i = 0; i < len; ++i) out[base + i] = static_cast<std::uint32_t>(cell_out[i]);
    }
}

}  // namespace detail

// Step 1, simd. Without a vector ISA (xsimd's "unavailable") it is the scalar kernel.
template <class H>
void bin_cells(const packet* p, std::size_t n, const time_params& tp, const size_table& lut, std::uint32_t* out,
               backend::requires_backend<backend::simd>) {
    if constexpr (backend::simd_available) detail::bin_cells_simd<H, backend::simd_arch>(p, n, tp, lut, out);
    else bin_cells<H>(p, n, tp, lut, out, backend::scalar{});
}

}  // namespace flowpic::picture::kernel
