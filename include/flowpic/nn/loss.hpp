#pragma once
// Losses, each fused with the network's head so that training works on logits: categorical
// cross-entropy with softmax (log-sum-exp, never log of a rounded probability) and binary
// cross-entropy with sigmoid. With class weights the mean is weighted as in PyTorch
// (sum_i w[y_i] l_i / sum_i w[y_i]); Keras divides by the batch size instead.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "flowpic/nn/layer.hpp"

namespace flowpic::nn {

// What a batch should produce: one label per sample, optional per-class weights.
struct targets {
    std::span<const std::int32_t> labels;
    std::span<const double> class_weights;  // empty: all 1

    [[nodiscard]] double weight(std::int32_t label) const {
        return class_weights.empty() ? 1.0 : class_weights[static_cast<std::size_t>(label)];
    }
};

namespace detail {
inline void check_label(std::int32_t y, std::size_t classes) {
    if (y < 0 || static_cast<std::size_t>(y) >= classes)
        throw std::out_of_range("label " + std::to_string(y) + " outside [0, " + std::to_string(classes) + ")");
}
}  // namespace detail

struct categorical_crossentropy {
    static constexpr layer_kind head = layer_kind::softmax;
    static constexpr const char* name = "categorical_crossentropy";

    // Sum of the weights of samples [0, n): the divisor of the batch mean.
    [[nodiscard]] static double normalizer(const targets& t, std::size_t n) {
        double s = 0;
        for (std::size_t i = 0; i < n; ++i) s += t.weight(t.labels[i]);
        return s;
    }
    // Weighted loss sum of samples [first, first + n) from their logits; dlogits (may be null)
    // receives the gradient of the batch mean, i.e. divided by norm.
    template <class T>
    static double evaluate(const T* logits, std::size_t n, std::size_t classes, const targets& t, std::size_t first,
                           double norm, T* dlogits) {
        double total = 0;
        for (std::size_t s = 0; s < n; ++s) {
            const T* z = logits + s * classes;
            const std::int32_t y = t.labels[first + s];
            detail::check_label(y, classes);
            const double w = t.weight(y);
            const double m = *std::max_element(z, z + classes);
            double sum = 0;
            for (std::size_t c = 0; c < classes; ++c) sum += std::exp(double(z[c]) - m);
            const double lse = m + std::log(sum);
            total += w * (lse - double(z[static_cast<std::size_t>(y)]));
            if (dlogits)
                for (std::size_t c = 0; c < classes; ++c) {
                    const double p = std::exp(double(z[c]) - lse);
                    dlogits[s * classes + c] = static_cast<T>(w * (p - (c == static_cast<std::size_t>(y) ? 1.0 : 0.0)) / norm);
                }
        }
        return total;
    }
};

// One sigmoid output; labels 0 or 1.
struct binary_crossentropy {
    static constexpr layer_kind head = layer_kind::sigmoid;
    static constexpr const char* name = "binary_crossentropy";

    [[nodiscard]] static double normalizer(const targets& t, std::size_t n) {
        return categorical_crossentropy::normalizer(t, n);
    }
    template <class T>
    static double evaluate(const T* logits, std::size_t n, std::size_t classes, const targets& t, std::size_t first,
                           double norm, T* dlogits) {
        if (classes != 1) throw std::invalid_argument("binary_crossentropy needs exactly one output");
        double total = 0;
        for (std::size_t s = 0; s < n; ++s) {
            const std::int32_t y = t.labels[first + s];
            detail::check_label(y, 2);
            const double w = t.weight(y), z = logits[s];
            total += w * (std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z))));
            if (dlogits) {
                const double p = z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z));
                dlogits[s] = static_cast<T>(w * (p - y) / norm);
            }
        }
        return total;
    }
};

template <class L>
concept loss_function = requires(const targets& t, const float* z, float* d) {
    { L::head } -> std::convertible_to<layer_kind>;
    { L::normalizer(t, std::size_t{}) } -> std::convertible_to<double>;
    { L::evaluate(z, std::size_t{}, std::size_t{}, t, std::size_t{}, 1.0, d) } -> std::convertible_to<double>;
};

}  // namespace flowpic::nn
