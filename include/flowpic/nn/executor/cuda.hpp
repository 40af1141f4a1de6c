#pragma once
// The cuda executor: a network called with backend::cuda runs on its device twin
// (nn::cuda_network, the hand-written CUDA kernels of the compiled component flowpic::cuda),
// made on first use; the parameters go up again after every change on the host. Training loops
// that should keep the parameters on the device use nn::cuda_network itself, or train::fit with
// the tag.

#include <cstddef>
#include <stdexcept>

#include "flowpic/backend/backend.hpp"
#include "flowpic/nn/cuda_network.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/loss.hpp"

namespace flowpic::nn {

template <class Net>
class cuda_executor {
public:
    void load(const Net& net) { twin_.upload(net.params()); }

    void forward(Net&, const float* x, std::size_t n, float* out, const run_context& ctx,
                 backend::requires_backend<backend::cuda>) {
        twin_.predict(x, n, out, ctx);
    }

    // Parameter gradients come down into net.grads().
    template <class Loss>
    double gradient(Net& net, const float* x, std::size_t n, const targets& t, const Loss& loss, double,
                    const run_context& ctx, float* dinput, backend::requires_backend<backend::cuda>) {
        if (dinput) throw std::invalid_argument("nn::sequential::gradient: input gradients need backend::scalar");
        const double l = twin_.gradient(x, n, t, loss, ctx);
        twin_.download_grads(net.grads());
        return l;
    }

    template <class Loss>
    double loss(Net&, const float* x, std::size_t n, const targets& t, const Loss& loss, double, float* probs,
                const run_context& ctx, backend::requires_backend<backend::cuda>) {
        return twin_.loss(x, n, t, loss, probs, ctx);
    }

    [[nodiscard]] cuda_network<Net>& twin() noexcept { return twin_; }

private:
    cuda_network<Net> twin_;
};

template <class Net>
cuda_executor<Net> executor_of(const Net&, backend::requires_backend<backend::cuda>);

}  // namespace flowpic::nn
