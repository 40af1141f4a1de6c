#pragma once
// A dense picture: channels x rows x columns, contiguous and row-major (one NCHW image), ready
// for the network or for numpy.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace flowpic::picture {

template <class T>
struct dense_picture {
    using value_type = T;
    std::size_t channels = 1;
    std::size_t height = 0;
    std::size_t width = 0;
    std::vector<T> data;  // channels * height * width values

    dense_picture() = default;
    dense_picture(std::size_t c, std::size_t h, std::size_t w, T fill = T(0)) : channels(c), height(h), width(w), data(c * h * w, fill) {}

    [[nodiscard]] std::size_t plane() const noexcept { return height * width; }
    [[nodiscard]] std::size_t size() const noexcept { return data.size(); }
    [[nodiscard]] T& at(std::size_t c, std::size_t r, std::size_t col) noexcept { return data[(c * height + r) * width + col]; }
    [[nodiscard]] const T& at(std::size_t c, std::size_t r, std::size_t col) const noexcept {
        return data[(c * height + r) * width + col];
    }
    [[nodiscard]] std::span<T> channel(std::size_t c) noexcept { return {data.data() + c * plane(), plane()}; }
    [[nodiscard]] std::span<const T> channel(std::size_t c) const noexcept { return {data.data() + c * plane(), plane()}; }

    friend bool operator==(const dense_picture&, const dense_picture&) = default;
};

}  // namespace flowpic::picture
