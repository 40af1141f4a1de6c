#pragma once
// Seeded randomness that is the same on every platform and thread count: splitmix64 streams for
// initialisation and shuffling, and a counter hash for dropout masks (a mask bit depends only on
// the seed, the step, the layer, the sample and the element, never on which thread made it).
// scripts/make_nn_fixtures.py reimplements `rng` to regenerate the same weights in PyTorch.

#include <cstdint>

namespace flowpic::nn {

[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

inline constexpr std::uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

// splitmix64: tiny state, good enough statistics, trivially reproducible elsewhere.
class rng {
public:
    constexpr explicit rng(std::uint64_t seed = 0) noexcept : state_(seed) {}

    constexpr std::uint64_t next() noexcept {
        state_ += golden_gamma;
        return mix64(state_);
    }
    // 24 random bits: exact in float, so every language gets the same value.
    constexpr double uniform() noexcept { return static_cast<double>(next() >> 40) * (1.0 / 16777216.0); }
    constexpr double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
    // Unbiased integer in [0, n) (Lemire's method would differ across languages; rejection does not).
    constexpr std::uint64_t below(std::uint64_t n) noexcept {
        if (n <= 1) return 0;
        const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
        std::uint64_t x = next();
        while (x >= limit) x = next();
        return x % n;
    }
    [[nodiscard]] constexpr std::uint64_t state() const noexcept { return state_; }

private:
    std::uint64_t state_;
};

// Key of one (seed, step, layer, sample) stream; element bits come from counter_bits(key, i).
[[nodiscard]] constexpr std::uint64_t stream_key(std::uint64_t seed, std::uint64_t step, std::uint64_t layer,
                                                 std::uint64_t sample) noexcept {
    return mix64(mix64(mix64(seed ^ 0x5eedf10e) + step) ^ (layer * golden_gamma + sample + 1));
}
[[nodiscard]] constexpr std::uint32_t counter_bits(std::uint64_t key, std::uint64_t i) noexcept {
    return static_cast<std::uint32_t>(mix64(key + (i + 1) * golden_gamma) >> 32);
}

}  // namespace flowpic::nn
