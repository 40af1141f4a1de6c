#pragma once
// Compile-time tensor shapes: a picture is channels x height x width; a vector is n x 1 x 1.

#include <cstddef>
#include <string>

namespace flowpic::nn {

struct shape {
    std::size_t c = 1;
    std::size_t h = 1;
    std::size_t w = 1;

    [[nodiscard]] constexpr std::size_t size() const noexcept { return c * h * w; }
    [[nodiscard]] constexpr bool flat() const noexcept { return h == 1 && w == 1; }
    friend constexpr bool operator==(const shape&, const shape&) = default;

    [[nodiscard]] std::string str() const {
        return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
    }
};

// The first element of a sequential: what one sample looks like (channels first).
template <std::size_t C, std::size_t H, std::size_t W = H>
struct input {
    static_assert(C > 0 && H > 0 && W > 0, "nn::input: every dimension must be positive");
    static constexpr shape value{C, H, W};
};

}  // namespace flowpic::nn
