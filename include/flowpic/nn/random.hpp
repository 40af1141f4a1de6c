#pragma once
// Seeded randomness that is the same on every platform and thread count: splitmix64 streams for
// initialisation and shuffling; dropout masks come from the counter hash of
// core/counter_random.hpp (a mask bit depends only on the seed, the step, the layer, the sample
// and the element, never on which thread made it).
// scripts/make_nn_fixtures.py reimplements `rng` to regenerate the same weights in PyTorch.

#include <cstdint>

#include "flowpic/core/counter_random.hpp"

namespace flowpic::nn {

// The counter hash (dropout masks) is shared with the CUDA ops.
using flowpic::counter_bits;
using flowpic::golden_gamma;
using flowpic::mix64;
using flowpic::stream_key;

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

}  // namespace flowpic::nn
