#pragma once
// numpy.histogram2d's bin rule for unit edges 0, 1, ..., n, which every FlowPic variant uses
// after scaling its axes (reference.md A.1 to A.3).
//
// numpy finds a value's bin with searchsorted(edges, v, side='right') - 1 and then moves values
// equal to the last edge into the last bin; values below 0, above n, or NaN fall outside and are
// dropped. With integer edges (exact in float64), "k <= v" holds for exactly the integers
// k <= floor(v), so for 0 <= v < n the comparison search gives floor(v): the rule below is that
// search, bit for bit (tests/unit/test_picture_bins.cpp checks it against a literal
// searchsorted over the edges, at the edges, next to them, at n, and for NaN and infinities).

#include <cmath>
#include <cstdint>

namespace flowpic::picture {

// Bin of v among n unit bins, or -1 when numpy would drop it. Half-open bins, the last closed.
[[nodiscard]] inline std::int32_t unit_bin(double v, std::int32_t n) noexcept {
    const double top = static_cast<double>(n);
    if (!(v >= 0.0 && v <= top)) return -1;  // also NaN
    const double f = std::floor(v);
    return f < top ? static_cast<std::int32_t>(f) : n - 1;
}

}  // namespace flowpic::picture
