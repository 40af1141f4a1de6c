#pragma once
// Convolution padding policies. `same` is Keras/TensorFlow's: the output is ceil(in / stride)
// and the odd pixel goes after (kernel 10, stride 5 on 1500: 2 before, 3 after), which PyTorch
// can only express with a separate ZeroPad2d.

#include <concepts>
#include <cstddef>
#include <string>

namespace flowpic::nn {

struct pads {
    std::size_t top = 0, bottom = 0, left = 0, right = 0;
    friend constexpr bool operator==(const pads&, const pads&) = default;
};

namespace padding {

struct valid {
    static constexpr pads compute(std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t) {
        return {};
    }
    static std::string name() { return "valid"; }
};

struct same {
    static constexpr std::size_t total(std::size_t in, std::size_t k, std::size_t s) {
        const std::size_t out = (in + s - 1) / s;
        const std::size_t need = (out - 1) * s + k;
        return need > in ? need - in : 0;
    }
    static constexpr pads compute(std::size_t h, std::size_t w, std::size_t kh, std::size_t kw, std::size_t sh,
                                  std::size_t sw) {
        const std::size_t th = total(h, kh, sh), tw = total(w, kw, sw);
        return {th / 2, th - th / 2, tw / 2, tw - tw / 2};
    }
    static std::string name() { return "same"; }
};

// PyTorch's `padding=P`: P zeros on every side (tcbench's 1500x1500 network uses 3).
template <std::size_t P>
struct symmetric {
    static constexpr pads compute(std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t) {
        return {P, P, P, P};
    }
    static std::string name() { return "symmetric(" + std::to_string(P) + ")"; }
};

template <std::size_t Top, std::size_t Bottom, std::size_t Left, std::size_t Right>
struct explicit_pads {
    static constexpr pads compute(std::size_t, std::size_t, std::size_t, std::size_t, std::size_t, std::size_t) {
        return {Top, Bottom, Left, Right};
    }
    static std::string name() {
        return "explicit(" + std::to_string(Top) + "," + std::to_string(Bottom) + "," + std::to_string(Left) + "," +
               std::to_string(Right) + ")";
    }
};

}  // namespace padding

template <class P>
concept padding_policy = requires(std::size_t n) {
    { P::compute(n, n, n, n, n, n) } -> std::same_as<pads>;
    { P::name() } -> std::convertible_to<std::string>;
};

}  // namespace flowpic::nn
