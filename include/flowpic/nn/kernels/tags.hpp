#pragma once
// Kernel selection by tag type: the project's backend tags (flowpic/backend/backend.hpp), an
// inheritance chain, so a layer that has no kernel for a tag falls back to the nearest base.
//   scalar: plain loops over any value type, one thread; the oracle every other kernel is tested
//           against, and the only one that runs in double (gradient checks).
//   simd:   float kernels over xsimd batches (implicit GEMM on split input rows, fused conv
//           epilogues), one thread.
//   tbb:    the simd kernels, spread by oneTBB over fixed chunks of samples (or over output rows
//           when a batch is smaller than the machine), so results do not depend on thread count.

#include <concepts>

#include "flowpic/backend/backend.hpp"

namespace flowpic::nn::kernels {

using scalar = backend::scalar;
using simd = backend::simd;
using tbb = backend::tbb;

// What a network runs on when no tag is given.
using fast = tbb;

template <class K>
concept kernel_tag = backend::backend_tag<K>;

// True when a tag runs the vectorised float kernels.
template <class K>
inline constexpr bool is_vectorised = std::derived_from<K, simd>;

}  // namespace flowpic::nn::kernels
