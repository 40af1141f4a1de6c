#pragma once
// The cuDNN + cuBLAS baseline of bench_network_cuda: the same network (layer for layer the same
// shapes, so the same multiply-adds) built from the vendor libraries, as a framework would run
// it: cudnnConvolutionForward / BackwardData / BackwardFilter / BackwardBias, cudnnPooling*,
// cudnnActivation*, cudnnDropout*, cudnnSoftmaxForward, cublasSgemm for the dense layers, and
// two small kernels of its own (softmax cross-entropy gradient, Adam with float moments as
// PyTorch keeps them). Convolution algorithms are chosen by cudnnFind* at creation (the fastest,
// deterministic or not: what torch.backends.cudnn.benchmark = True does). Plain C++ interface
// without CUDA headers, so that the benchmark itself is an ordinary .cpp.
//
// Differences from flowpic's kernels, none of which changes the amount of work:
// - cuDNN pads symmetrically. Keras 'same' padding of shapira2019 is 2 before, 3 after (k10 s5
//   on 1500 and on 150); the baseline pads max(before, after) = 3 on both sides, which gives the
//   same output size (300, 30) and the same multiply-adds, windows shifted by one pixel. The
//   baseline checks that every layer's output shape equals flowpic's.
// - dropout2d (mini_flowpic) runs as element-wise cudnnDropout: cuDNN has no channel dropout.
// - fp32 mode forbids tensor cores (CUDNN_FMA_MATH, CUBLAS_DEFAULT_MATH), as flowpic's float
//   kernels; tf32 mode allows them (CUDNN_DEFAULT_MATH, CUBLAS_TF32_TENSOR_OP_MATH), the
//   framework default on Ampere and later for convolutions.

#include <cstddef>
#include <cstdint>

#include "flowpic/cuda/network_api.hpp"

enum cudnn_baseline_kind {
    CUDNN_BASELINE_CONV = 0,
    CUDNN_BASELINE_MAX_POOL = 1,
    CUDNN_BASELINE_RELU = 2,
    CUDNN_BASELINE_DROPOUT = 3,  // dropout and dropout2d
    CUDNN_BASELINE_FLATTEN = 4,
    CUDNN_BASELINE_DENSE = 5,
    CUDNN_BASELINE_SOFTMAX = 6,  // the head: last layer only
};

struct cudnn_baseline_layer {
    int kind = CUDNN_BASELINE_RELU;
    std::uint32_t c = 1, h = 1, w = 1;  // input shape (dense: c = inputs)
    flowpic_cuda_conv2d conv{};          // CONV
    flowpic_cuda_pool2d pool{};          // MAX_POOL
    std::uint32_t units = 0;             // DENSE
    float rate = 0;                      // DROPOUT
};

struct cudnn_baseline;

// Statuses: 0, a cudaError_t (> 0), or below: -1000 - cudnnStatus_t, -2000 - cublasStatus_t,
// FLOWPIC_CUDA_INVALID_ARGUMENT (an unsupported layer list, or a shape cuDNN computes
// differently from flowpic).
int cudnn_baseline_create(const cudnn_baseline_layer* layers, std::size_t count, std::size_t batch, bool tf32,
                          cudnn_baseline** out);
void cudnn_baseline_destroy(cudnn_baseline* b);
const char* cudnn_baseline_status_string(int status);
// Parameters, random (fixed seed); the count must be the network's.
std::size_t cudnn_baseline_param_count(const cudnn_baseline* b);
// A batch of inputs ([batch, C, H, W] floats) and labels from the host, once; waits.
int cudnn_baseline_upload(cudnn_baseline* b, const float* x, const std::int32_t* labels);
// Inference (dropout off) up to the softmax probabilities; queued.
int cudnn_baseline_forward(cudnn_baseline* b);
// One training step: forward (dropout on), softmax cross-entropy, backward, Adam (lr 1e-3);
// queued, the loss lands in pinned memory.
int cudnn_baseline_train_step(cudnn_baseline* b);
// Waits for everything queued; loss (may be null) = the last training step's mean loss.
int cudnn_baseline_synchronize(cudnn_baseline* b, double* loss);
