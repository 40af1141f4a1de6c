#pragma once
// Code shared by the host and a CUDA device: FLOWPIC_HD marks a function for both, and the
// arithmetic below is spelled once for both. On the device each IEEE operation is its _rn
// intrinsic, so that no compiler flag can fuse or reassociate it and the device rounds exactly
// as the host; on the host it is the plain operator. No CUDA header is needed: under nvcc the
// intrinsics are built in, elsewhere this is plain C++.

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define FLOWPIC_HD __host__ __device__ __forceinline__
#else
#define FLOWPIC_HD inline
#endif

namespace flowpic::hd {

// ---- float64, rounded to nearest -------------------------------------------------------------
FLOWPIC_HD double dadd(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}
FLOWPIC_HD double dsub(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dsub_rn(a, b);
#else
    return a - b;
#endif
}
FLOWPIC_HD double dmul(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}
FLOWPIC_HD double ddiv(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __ddiv_rn(a, b);
#else
    return a / b;
#endif
}
FLOWPIC_HD double dsqrt(double a) {
#if defined(__CUDA_ARCH__)
    return __dsqrt_rn(a);
#else
    return std::sqrt(a);
#endif
}

// ---- library functions (not correctly rounded: CUDA's and glibc's may differ in the last place)
FLOWPIC_HD double dfloor(double v) {
#if defined(__CUDA_ARCH__)
    return ::floor(v);
#else
    return std::floor(v);
#endif
}
FLOWPIC_HD double dexp(double a) {
#if defined(__CUDA_ARCH__)
    return ::exp(a);
#else
    return std::exp(a);
#endif
}
FLOWPIC_HD double dlog(double a) {
#if defined(__CUDA_ARCH__)
    return ::log(a);
#else
    return std::log(a);
#endif
}
FLOWPIC_HD double dlog1p(double a) {
#if defined(__CUDA_ARCH__)
    return ::log1p(a);
#else
    return std::log1p(a);
#endif
}
FLOWPIC_HD float fexp(float a) {
#if defined(__CUDA_ARCH__)
    return ::expf(a);
#else
    return std::exp(a);
#endif
}

// ---- float32 ---------------------------------------------------------------------------------
// a * b + c: one rounding on the device, two on the host (the host kernels never fuse).
FLOWPIC_HD float fmadd(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
    return __fmaf_rn(a, b, c);
#else
    return a * b + c;
#endif
}

// ---- conversions and bits --------------------------------------------------------------------
FLOWPIC_HD double i64_to_double(std::int64_t v) {
#if defined(__CUDA_ARCH__)
    return __ll2double_rn(v);
#else
    return static_cast<double>(v);
#endif
}
FLOWPIC_HD double u32_to_double(std::uint32_t v) {
    return static_cast<double>(v);  // exact
}
// The bits of a float64 result stored as float (rounded to nearest) or as double.
FLOWPIC_HD std::uint32_t f32_bits(double v) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(__double2float_rn(v));
#else
    const float f = static_cast<float>(v);
    std::uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
#endif
}
FLOWPIC_HD std::uint64_t f64_bits(double v) {
#if defined(__CUDA_ARCH__)
    return static_cast<std::uint64_t>(__double_as_longlong(v));
#else
    std::uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    return u;
#endif
}

}  // namespace flowpic::hd
