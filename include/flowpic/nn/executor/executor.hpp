#pragma once
// Running a network: the executor of backend B is chosen by overload on the tag (xsimd's
// requires_arch pattern), the most derived one that exists:
//
//   backend::scalar -> scalar_executor  (nn/executor/scalar.hpp, the oracle, float or double)
//   backend::simd   -> simd_executor    (nn/executor/simd.hpp, one thread)
//   backend::tbb    -> simd_executor    (the same kernels, chunks over the threads)
//   backend::cuda   -> cuda_executor    (nn/executor/cuda.hpp, needs flowpic::cuda)
//
// A network (nn::basic_sequential) only describes layers and holds parameters; executor_for
// gives the executor it keeps for B, made on first use and reloaded (weights packed, or uploaded)
// when the parameters changed:
//
//   auto& ex = nn::executor_for(net, backend::tbb{});
//   ex.forward(net, x, n, out, nn::run_context{}, backend::tbb{});
//
// The network's predict/forward/gradient/loss check their arguments and call exactly this.
// Every executor has load(net), forward(net, x, n, out, ctx, tag),
// gradient(net, x, n, targets, loss, norm, ctx, dinput, tag) (into net.grads(), zeroed by the
// caller) and loss(net, x, n, targets, loss, norm, probs, ctx, tag).

#include <utility>

#include "flowpic/backend/backend.hpp"
#include "flowpic/nn/executor/cuda.hpp"
#include "flowpic/nn/executor/scalar.hpp"
#include "flowpic/nn/executor/simd.hpp"

namespace flowpic::nn {

template <class Net, backend::backend_tag B>
using executor_t = decltype(executor_of(std::declval<const Net&>(), std::declval<const B&>()));

// The executor net keeps for backend B, loaded with its current parameters. One network must not
// run two calls at once.
template <class Net, backend::backend_tag B>
executor_t<Net, B>& executor_for(Net& net, B = {}) {
    return net.executors().template get<executor_t<Net, B>>(std::as_const(net), net.version());
}

}  // namespace flowpic::nn
