#pragma once
// Pictures as NumPy .npy files (core/npy.hpp), channels first as the network takes them:
//   one picture:   (H, W) when it has one channel, else (C, H, W)
//   a stack:       (N, C, H, W)
// Errors: io_error when a file cannot be written or opened; format_error (with the file name
// and byte offset) when a file read back is not an .npy of the expected type and size.

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/core/npy.hpp"
#include "flowpic/picture/dense_picture.hpp"
#include "flowpic/picture/sparse_stack.hpp"

namespace flowpic::picture {

template <class T>
void save_npy(const std::string& path, const dense_picture<T>& p) {
    std::vector<std::size_t> shape;
    if (p.channels != 1) shape.push_back(p.channels);
    shape.push_back(p.height);
    shape.push_back(p.width);
    npy::save(path, shape, p.data.data());
}

template <class T>
void save_npy(const std::string& path, std::span<const dense_picture<T>> stack) {
    const dense_picture<T>* first = stack.empty() ? nullptr : &stack.front();
    const std::size_t c = first ? first->channels : 1, h = first ? first->height : 0, w = first ? first->width : 0;
    npy::writer<T> out(path, {stack.size(), c, h, w});
    for (const auto& p : stack) {
        if (p.channels != c || p.height != h || p.width != w)
            throw std::invalid_argument("flowpic: save_npy of a stack needs pictures of one geometry");
        out.write(p.data.data(), p.data.size());
    }
    out.close();
}

// A sparse stack written dense, one picture in memory at a time.
template <class T>
void save_npy(const std::string& path, const sparse_stack<T>& stack) {
    npy::writer<T> out(path, {stack.size(), stack.channels(), stack.height(), stack.width()});
    dense_picture<T> d;
    for (std::size_t i = 0; i < stack.size(); ++i) {
        stack[i].densify(d);
        out.write(d.data.data(), d.data.size());
    }
    out.close();
}

// The largest picture value read back (npy::load has refused NaN and infinity): a billion
// packets in one cell; beyond it, a network's float activations may overflow to infinity.
inline constexpr double max_abs_value = 1e9;

// A format_error naming `path` and the first value beyond max_abs_value.
template <class T>
void check_values(std::span<const T> values, const std::string& path) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double v = static_cast<double>(values[i]);
        if (!(std::fabs(v) <= max_abs_value)) {
            char text[64];
            std::snprintf(text, sizeof text, " = %g is beyond +-%g", v, max_abs_value);
            throw format_error(location{path}, "picture value " + std::to_string(i) + text);
        }
    }
}

// One picture saved by save_npy: (H, W) or (C, H, W).
template <class T>
dense_picture<T> load_npy_picture(const std::string& path) {
    npy::array<T> a = npy::load<T>(path);
    check_values(std::span<const T>(a.data), path);
    dense_picture<T> p;
    if (a.shape.size() == 2) {
        p.channels = 1;
        p.height = a.shape[0];
        p.width = a.shape[1];
    } else if (a.shape.size() == 3) {
        p.channels = a.shape[0];
        p.height = a.shape[1];
        p.width = a.shape[2];
    } else {
        throw format_error(location{path, 0}, "a picture is (H, W) or (C, H, W), this array has " +
                                                   std::to_string(a.shape.size()) + " dimensions");
    }
    p.data = std::move(a.data);
    return p;
}

}  // namespace flowpic::picture
