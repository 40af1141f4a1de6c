#pragma once
// Optimisers with PyTorch's update rules and defaults (Keras' agree up to Adam's epsilon, 1e-7
// there): SGD with momentum (v = mu v + g; p -= lr v) and Adam (bias-corrected moments;
// p -= lr m^ / (sqrt(v^) + eps)). Updates run in double and round once to the parameter type.

#include <cmath>
#include <cstddef>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace flowpic::nn {

class sgd {
public:
    struct options {
        double lr = 0.01;
        double momentum = 0.0;
    };
    sgd() = default;
    explicit sgd(options o) : o_(o) {}

    template <class T>
    void step(std::span<T> params, std::span<const T> grads) {
        if (params.size() != grads.size()) throw std::invalid_argument("sgd::step: parameters and gradients differ in size");
        if (o_.momentum == 0.0) {
            for (std::size_t i = 0; i < params.size(); ++i) params[i] = static_cast<T>(params[i] - o_.lr * grads[i]);
            return;
        }
        if (v_.size() != params.size()) {
            v_.assign(grads.begin(), grads.end());  // PyTorch: the first step's buffer is the gradient
        } else {
            for (std::size_t i = 0; i < params.size(); ++i) v_[i] = o_.momentum * v_[i] + grads[i];
        }
        for (std::size_t i = 0; i < params.size(); ++i) params[i] = static_cast<T>(params[i] - o_.lr * v_[i]);
    }
    void reset() { v_.clear(); }
    [[nodiscard]] const options& settings() const noexcept { return o_; }
    // What a checkpoint keeps (train/checkpoint.hpp): the momentum buffer, empty before the first step.
    struct state_type {
        std::vector<double> m, v;
        std::size_t t = 0;
    };
    [[nodiscard]] state_type state() const { return {{}, v_, 0}; }
    void restore(state_type s) { v_ = std::move(s.v); }

private:
    options o_{};
    std::vector<double> v_;
};

class adam {
public:
    struct options {
        double lr = 1e-3;
        double beta1 = 0.9;
        double beta2 = 0.999;
        double eps = 1e-8;
    };
    adam() = default;
    explicit adam(options o) : o_(o) {}

    template <class T>
    void step(std::span<T> params, std::span<const T> grads) {
        if (params.size() != grads.size()) throw std::invalid_argument("adam::step: parameters and gradients differ in size");
        if (m_.size() != params.size()) {
            m_.assign(params.size(), 0.0);
            v_.assign(params.size(), 0.0);
            t_ = 0;
        }
        ++t_;
        const double bc1 = 1 - std::pow(o_.beta1, static_cast<double>(t_));
        const double bc2 = 1 - std::pow(o_.beta2, static_cast<double>(t_));
        const double step = o_.lr / bc1, root2 = std::sqrt(bc2);
        for (std::size_t i = 0; i < params.size(); ++i) {
            const double g = grads[i];
            m_[i] = o_.beta1 * m_[i] + (1 - o_.beta1) * g;
            v_[i] = o_.beta2 * v_[i] + (1 - o_.beta2) * g * g;
            params[i] = static_cast<T>(params[i] - step * m_[i] / (std::sqrt(v_[i]) / root2 + o_.eps));
        }
    }
    void reset() {
        m_.clear();
        v_.clear();
        t_ = 0;
    }
    [[nodiscard]] const options& settings() const noexcept { return o_; }
    // What a checkpoint keeps (train/checkpoint.hpp): both moments and the step count.
    struct state_type {
        std::vector<double> m, v;
        std::size_t t = 0;
    };
    [[nodiscard]] state_type state() const { return {m_, v_, t_}; }
    void restore(state_type s) {
        m_ = std::move(s.m);
        v_ = std::move(s.v);
        t_ = s.t;
    }

private:
    options o_{};
    std::vector<double> m_, v_;
    std::size_t t_ = 0;
};

template <class O>
concept optimizer = requires(O o, std::span<float> p, std::span<const float> g) {
    o.step(p, g);
    o.reset();
};

}  // namespace flowpic::nn
