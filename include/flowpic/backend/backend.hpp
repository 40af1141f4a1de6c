#pragma once
// Backend tags: the way every stage chooses a kernel (xsimd's requires_arch pattern).
//
// Tags form an inheritance chain, most capable last. A kernel overload takes
// `requires_backend<B>` (a `const B&`), so a call with a more derived tag picks the most derived
// overload that exists and otherwise falls back along the chain, down to `scalar`, the oracle
// every other kernel is tested against. No enum, no if-constexpr ladder, no silent runtime choice.
//
//   scalar  <-  simd  <-  tbb  <-  cuda
//
// Later backends add tags to the chain; kernels that a backend lacks resolve to the nearest
// ancestor that has them.

#include <concepts>
#include <type_traits>

namespace flowpic::backend {

// Plain C++ loops: the reference every other backend must equal bit for bit.
struct scalar {
    static constexpr const char* name = "scalar";
};

// Vectorised with xsimd at one ISA, the including translation unit's (see backend/simd_arch.hpp).
struct simd : scalar {
    static constexpr const char* name = "simd";
};

// Many blocks (pictures, images) in parallel with oneTBB; each item runs the simd kernels.
struct tbb : simd {
    static constexpr const char* name = "tbb";
};

// Pictures of many blocks per transfer and the networks on a CUDA GPU (picture/kernels/cuda.hpp,
// nn/cuda_network.hpp; compiled component flowpic::cuda). A tag only: this header stays free of
// CUDA. Work without a CUDA kernel (one block's picture) falls back to tbb.
struct cuda : tbb {
    static constexpr const char* name = "cuda";
};

// The parameter type of a kernel overload written for backend B and every backend derived from it.
template <class B>
using requires_backend = std::add_lvalue_reference_t<std::add_const_t<B>>;

template <class B>
concept backend_tag = std::derived_from<B, scalar> && requires {
    { B::name } -> std::convertible_to<const char*>;
};

// The one backend every stage uses when none is named (pictures, many blocks, the pipeline, the
// network, training): all cores. For one block's picture tbb runs the simd kernel.
using default_backend = tbb;

}  // namespace flowpic::backend
