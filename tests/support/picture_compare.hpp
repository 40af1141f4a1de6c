#pragma once
// Picture comparisons shared by the tests (dense vs sparse, backend vs scalar oracle, device vs
// host, picture vs fixture). Values compare bit for bit: the backends promise identical bits,
// so -0 against +0 or another NaN payload is a difference.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <span>
#include <type_traits>

#include "flowpic/picture/dense_picture.hpp"

namespace flowpic::test {

// Two float64 values with the same bits (our float32 values widen exactly).
inline bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

// Two ranges of the same length and bits.
template <class T>
bool same_bits(std::span<const T> a, std::span<const T> b) {
    static_assert(std::is_trivially_copyable_v<T>);
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}
template <class A, class B>
    requires requires(const A& x, const B& y) { std::data(x), std::size(x), std::data(y), std::size(y); }
bool same_bits(const A& a, const B& b) {
    using T = std::remove_cvref_t<decltype(*std::data(a))>;
    return same_bits(std::span<const T>(std::data(a), std::size(a)), std::span<const T>(std::data(b), std::size(b)));
}

// Sparse pictures (or views) with the same cells and the same value bits.
template <class A, class B>
bool same_sparse(const A& a, const B& b) {
    return same_bits(a.cells, b.cells) && same_bits(a.values, b.values);
}

// Dense pictures of one geometry with the same value bits.
template <class T>
bool same_dense(const picture::dense_picture<T>& a, const picture::dense_picture<T>& b) {
    return a.channels == b.channels && a.height == b.height && a.width == b.width && same_bits(a.data, b.data);
}

}  // namespace flowpic::test
