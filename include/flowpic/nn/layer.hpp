#pragma once
// What every layer provides. A layer *spec* (nn::conv2d<10, 10, 5, padding::same>) carries only
// its hyper-parameters; `Spec::bind<In>` is the layer for one input shape, with every output
// shape, parameter count and multiply-add count known at compile time. Bound layers are
// stateless: parameters live in the network's flat buffer, in PyTorch layout, one layer after
// the other (weight then bias).

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "flowpic/nn/shape.hpp"

namespace flowpic::nn {

enum class layer_kind : std::uint8_t { conv2d, max_pool2d, relu, sigmoid, softmax, dropout, dropout2d, flatten, dense };

// A layer kind as a type: per-layer operations of an executor are overloads on it.
template <layer_kind K>
using kind_t = std::integral_constant<layer_kind, K>;
template <class L>
using kind_of = kind_t<L::kind>;

// What a forward or backward call needs to know besides the tensors.
struct run_context {
    bool training = false;          // dropout active
    std::uint64_t seed = 0;         // dropout masks: (seed, step, layer, sample, element)
    std::uint64_t step = 0;
    std::size_t sample_base = 0;    // index in the batch of the first sample of this call
    std::size_t layer = 0;          // position of the layer in the network
};

// Keras' default (Glorot-uniform kernels, zero biases) or PyTorch's default (Kaiming-uniform
// with a = sqrt(5), i.e. U(+-1/sqrt(fan_in)) for kernels and biases).
enum class init_scheme : std::uint8_t { glorot_uniform, kaiming_uniform };

// One parameter tensor of a layer, as exported (PyTorch layout).
struct tensor_info {
    std::string role;                   // "weight" or "bias"
    std::vector<std::size_t> dims;
    std::size_t offset = 0;             // within the layer's parameters
    [[nodiscard]] std::size_t size() const {
        std::size_t n = 1;
        for (auto d : dims) n *= d;
        return n;
    }
};

// A tensor of a whole network: `group` counts the layers that have parameters, from 0.
struct parameter_tensor {
    std::size_t group = 0;
    std::size_t layer = 0;
    tensor_info info;
    std::size_t offset = 0;  // in the network's parameters
};

template <class S>
concept layer_spec = requires {
    { S::template accepts<shape{1, 1, 1}> } -> std::convertible_to<bool>;
};

template <class L>
concept bound_layer = requires {
    { L::kind } -> std::convertible_to<layer_kind>;
    { L::in } -> std::convertible_to<shape>;
    { L::out } -> std::convertible_to<shape>;
    { L::param_count } -> std::convertible_to<std::size_t>;
    { L::macs } -> std::convertible_to<std::size_t>;
    { L::signature() } -> std::convertible_to<std::string>;
};

// Dropout keep decision: the same bits for the scalar oracle and every fused kernel.
[[nodiscard]] constexpr std::uint32_t drop_threshold(double rate) noexcept {
    return static_cast<std::uint32_t>(rate * 4294967296.0 >= 4294967295.0 ? 4294967295u : rate * 4294967296.0);
}

}  // namespace flowpic::nn
