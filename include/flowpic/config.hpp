#pragma once
// Version and feature macros of flowpic.

#define FLOWPIC_VERSION_MAJOR 0
#define FLOWPIC_VERSION_MINOR 1
#define FLOWPIC_VERSION_PATCH 0
#define FLOWPIC_VERSION (FLOWPIC_VERSION_MAJOR * 10000 + FLOWPIC_VERSION_MINOR * 100 + FLOWPIC_VERSION_PATCH)

// Set to 1 by the flowpic::cuda component's usage requirements, never by the header-only target.
#ifndef FLOWPIC_HAS_CUDA
#define FLOWPIC_HAS_CUDA 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FLOWPIC_LIKELY(x) __builtin_expect(!!(x), 1)
#define FLOWPIC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FLOWPIC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define FLOWPIC_LIKELY(x) (x)
#define FLOWPIC_UNLIKELY(x) (x)
#define FLOWPIC_ALWAYS_INLINE inline
#endif
