#pragma once
// The one ISA the simd backend uses: xsimd's default architecture, which the compiler flags of
// the including translation unit decide (none: SSE2; -mavx2 -mfma: AVX2+FMA; -march=native on
// the project machines: AVX-512BW). flowpic applies that choice uniformly instead of dispatching
// at run time, because a header-only library cannot ship one object file per ISA.
//
// Rules that follow from it:
// - build every translation unit of a program with the same ISA flags (flowpic's own programs
//   take them from FLOWPIC_SIMD_ARCH, "native" by default);
// - SIMD kernels are templates on the architecture, so two programs built for different ISAs
//   never share a symbol, and results never depend on the ISA: every kernel equals the scalar
//   oracle bit for bit (the kernels only use correctly rounded IEEE operations, no estimates).

#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace flowpic::backend {

using simd_arch = xsimd::default_arch;

// True when the including translation unit has a vector ISA xsimd can use.
inline constexpr bool simd_available = !std::is_same_v<simd_arch, xsimd::unavailable>;

[[nodiscard]] inline const char* simd_arch_name() noexcept {
    if constexpr (simd_available) return simd_arch::name();
    else return "none";
}

}  // namespace flowpic::backend
