#pragma once
// Counter-based random bits, the same on the host, on a CUDA device, on every platform and for
// every thread count: a bit depends only on its key and counter, never on which thread drew it
// (dropout masks are drawn this way by the CPU kernels and the CUDA ops alike).
// scripts/make_nn_fixtures.py reimplements mix64 to regenerate the same numbers in PyTorch.

#include <cstdint>

#include "flowpic/core/host_device.hpp"

namespace flowpic {

// splitmix64's finaliser.
[[nodiscard]] FLOWPIC_HD constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

inline constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

// Key of one (seed, step, layer, sample) stream; element bits come from counter_bits(key, i).
[[nodiscard]] FLOWPIC_HD constexpr std::uint64_t stream_key(std::uint64_t seed, std::uint64_t step, std::uint64_t layer,
                                                            std::uint64_t sample) noexcept {
    return mix64(mix64(mix64(seed ^ 0x5eedf10e) + step) ^ (layer * golden_gamma + sample + 1));
}
[[nodiscard]] FLOWPIC_HD constexpr std::uint32_t counter_bits(std::uint64_t key, std::uint64_t i) noexcept {
    return static_cast<std::uint32_t>(mix64(key + (i + 1) * golden_gamma) >> 32);
}

}  // namespace flowpic
