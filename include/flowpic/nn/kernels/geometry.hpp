#pragma once
// Runtime descriptions of one convolution and one pooling, shared by every kernel; layers build
// them as constexpr values from their compile-time shapes.

#include <cstddef>

namespace flowpic::nn::kernels {

struct conv_geometry {
    std::size_t c = 1, h = 1, w = 1;      // input
    std::size_t f = 1;                    // filters (output channels)
    std::size_t kh = 1, kw = 1;           // kernel
    std::size_t sh = 1, sw = 1;           // stride
    std::size_t pt = 0, pb = 0, pl = 0, pr = 0;
    std::size_t oh = 1, ow = 1;           // output

    [[nodiscard]] constexpr std::size_t k() const noexcept { return c * kh * kw; }  // GEMM depth
    [[nodiscard]] constexpr std::size_t in_size() const noexcept { return c * h * w; }
    [[nodiscard]] constexpr std::size_t out_size() const noexcept { return f * oh * ow; }
    [[nodiscard]] constexpr std::size_t weight_size() const noexcept { return f * k(); }
    [[nodiscard]] constexpr std::size_t padded_h() const noexcept { return h + pt + pb; }
    [[nodiscard]] constexpr std::size_t padded_w() const noexcept { return w + pl + pr; }
};

struct pool_geometry {
    std::size_t c = 1, h = 1, w = 1;  // input
    std::size_t k = 2, s = 2;         // window and stride (floor mode, no padding)
    std::size_t oh = 1, ow = 1;
    [[nodiscard]] constexpr std::size_t in_size() const noexcept { return c * h * w; }
    [[nodiscard]] constexpr std::size_t out_size() const noexcept { return c * oh * ow; }
};

}  // namespace flowpic::nn::kernels
