#pragma once
// The raw-pointer API of flowpic::cuda's network half: hand-written CUDA kernels for every layer
// of nn::sequential (conv2d, max_pool2d, relu, sigmoid, dropout, dense, softmax), the fused
// losses and the optimisers, on float tensors in device memory (NCHW, PyTorch's weight layouts,
// as the CPU kernels). Plain C: no CUDA header, no template, no exception crosses it; statuses
// as in flowpic/cuda/picture_api.hpp (0, a cudaError_t > 0, or flowpic's codes < 0).
//
// C++ users want nn::cuda_network (flowpic/nn/cuda_network.hpp), or simply a network called with
// the backend::cuda tag; this layer is what they are built on, and what tests and benchmarks
// drive kernel by kernel.
//
// Every call is queued on the context's stream and returns at once, except those that say they
// wait. Backward calls that produce parameter gradients add into them (zero them first with
// flowpic_cuda_nn_zero); input gradients are overwritten. Sums are deterministic: partial sums
// in a fixed split, combined in a fixed order, never atomics.

#include <cstddef>
#include <cstdint>

#include "flowpic/cuda/picture_api.hpp"

extern "C" {

enum flowpic_cuda_nn_status {
    FLOWPIC_CUDA_BAD_LABEL = -7,    // a label outside [0, classes) (reported by flowpic_cuda_nn_read_loss)
    FLOWPIC_CUDA_ZERO_WEIGHT = -8,  // the class weights of a batch sum to 0 (reported by flowpic_cuda_nn_read_loss)
};

// A convolution as nn::kernels::conv_geometry (bottom and right padding follow from oh and ow).
struct flowpic_cuda_conv2d {
    std::uint32_t c, h, w;     // input
    std::uint32_t f;           // filters
    std::uint32_t kh, kw;      // kernel
    std::uint32_t sh, sw;      // stride
    std::uint32_t pt, pl;      // padding before
    std::uint32_t oh, ow;      // output
};

// Max pooling as nn::kernels::pool_geometry (floor mode; ties to the first maximum, row-major).
struct flowpic_cuda_pool2d {
    std::uint32_t c, h, w;
    std::uint32_t k, s;
    std::uint32_t oh, ow;
};

// An inverted dropout mask: element e of sample s is kept (and scaled) when
// counter_bits(stream_key(seed, step, layer, sample_base + s), e / unit) >= threshold
// (flowpic/core/counter_random.hpp), the same bits as every CPU kernel.
struct flowpic_cuda_dropout {
    std::uint64_t seed, step, layer, sample_base;
    std::uint32_t threshold;
    std::uint32_t unit;   // elements that share one draw: 1 (dropout) or h * w (dropout2d)
    float scale;          // 1 / (1 - rate), rounded to float as the CPU kernels do
};

struct flowpic_cuda_adam {
    double lr, beta1, beta2, eps;
    std::uint64_t t;  // the step being taken, from 1
};

// Source types of flowpic_cuda_nn_to_float (device pictures of any value type).
enum flowpic_cuda_value_kind {
    FLOWPIC_CUDA_VALUE_UNSIGNED = 0,
    FLOWPIC_CUDA_VALUE_SIGNED = 1,
    FLOWPIC_CUDA_VALUE_FLOAT = 2,
};

struct flowpic_cuda_nn;

// ---- context and memory --------------------------------------------------------------------

// A context on `device` (-1: the calling thread's current one): a non-blocking stream, a growing
// scratch buffer for partial sums, and the loss accumulator.
int flowpic_cuda_nn_create(int device, flowpic_cuda_nn** context);
// Waits for queued work and frees the context (null is allowed); memory from
// flowpic_cuda_nn_malloc is the caller's to free, before this.
void flowpic_cuda_nn_destroy(flowpic_cuda_nn* context);
int flowpic_cuda_nn_device(const flowpic_cuda_nn* context, int* device);

int flowpic_cuda_nn_malloc(flowpic_cuda_nn* context, std::size_t bytes, void** pointer);
int flowpic_cuda_nn_free(flowpic_cuda_nn* context, void* pointer);
// Host -> device and device -> host copies from or into pageable memory; they wait.
int flowpic_cuda_nn_upload(flowpic_cuda_nn* context, void* device_dst, const void* host_src, std::size_t bytes);
int flowpic_cuda_nn_download(flowpic_cuda_nn* context, void* host_dst, const void* device_src, std::size_t bytes);
// Device -> device copy and zeroing, queued.
int flowpic_cuda_nn_copy(flowpic_cuda_nn* context, void* device_dst, const void* device_src, std::size_t bytes);
int flowpic_cuda_nn_zero(flowpic_cuda_nn* context, void* device_dst, std::size_t bytes);
// Waits for everything queued on the context's stream.
int flowpic_cuda_nn_synchronize(flowpic_cuda_nn* context);

// count values of value_bytes bytes (1, 2, 4, 8) and kind flowpic_cuda_value_kind -> float.
int flowpic_cuda_nn_to_float(flowpic_cuda_nn* context, const void* src, std::uint32_t value_bytes, std::uint32_t kind,
                             float* dst, std::size_t count);

// ---- layers (n samples; pointers to device memory) -----------------------------------------

int flowpic_cuda_nn_conv2d_forward(flowpic_cuda_nn* context, const flowpic_cuda_conv2d* g, const float* w,
                                   const float* b, const float* x, float* y, std::size_t n);
// dx = the gradient with respect to the input (overwritten).
int flowpic_cuda_nn_conv2d_backward_data(flowpic_cuda_nn* context, const flowpic_cuda_conv2d* g, const float* w,
                                         const float* dy, float* dx, std::size_t n);
// dw += dL/dw, db += dL/db over the n samples.
int flowpic_cuda_nn_conv2d_backward_params(flowpic_cuda_nn* context, const flowpic_cuda_conv2d* g, const float* x,
                                           const float* dy, float* dw, float* db, std::size_t n);

int flowpic_cuda_nn_max_pool2d_forward(flowpic_cuda_nn* context, const flowpic_cuda_pool2d* g, const float* x,
                                       float* y, std::size_t n);
// Each window's gradient goes to its first maximum (recomputed from x).
int flowpic_cuda_nn_max_pool2d_backward(flowpic_cuda_nn* context, const flowpic_cuda_pool2d* g, const float* x,
                                        const float* dy, float* dx, std::size_t n);

// Element-wise, over count values. Backward passes read the forward output y.
int flowpic_cuda_nn_relu_forward(flowpic_cuda_nn* context, const float* x, float* y, std::size_t count);
int flowpic_cuda_nn_relu_backward(flowpic_cuda_nn* context, const float* y, const float* dy, float* dx,
                                  std::size_t count);
int flowpic_cuda_nn_sigmoid_forward(flowpic_cuda_nn* context, const float* x, float* y, std::size_t count);
int flowpic_cuda_nn_sigmoid_backward(flowpic_cuda_nn* context, const float* y, const float* dy, float* dx,
                                     std::size_t count);
// y = x * mask for n samples of per_sample values; the backward pass is the same call on dy.
int flowpic_cuda_nn_dropout(flowpic_cuda_nn* context, const flowpic_cuda_dropout* d, const float* x, float* y,
                            std::size_t n, std::size_t per_sample);

// y[n][out] = x[n][in] W^T + b, W [out][in].
int flowpic_cuda_nn_dense_forward(flowpic_cuda_nn* context, std::uint32_t in, std::uint32_t out, const float* w,
                                  const float* b, const float* x, float* y, std::size_t n);
int flowpic_cuda_nn_dense_backward_data(flowpic_cuda_nn* context, std::uint32_t in, std::uint32_t out,
                                        const float* w, const float* dy, float* dx, std::size_t n);
int flowpic_cuda_nn_dense_backward_params(flowpic_cuda_nn* context, std::uint32_t in, std::uint32_t out,
                                          const float* x, const float* dy, float* dw, float* db, std::size_t n);

// Row-wise softmax of n rows of `classes` values.
int flowpic_cuda_nn_softmax_forward(flowpic_cuda_nn* context, const float* x, float* y, std::size_t n,
                                    std::uint32_t classes);
// Backward of a softmax inside a network: dx = y * (dy - <dy, y>).
int flowpic_cuda_nn_softmax_backward(flowpic_cuda_nn* context, const float* y, const float* dy, float* dx,
                                     std::size_t n, std::uint32_t classes);

// ---- losses --------------------------------------------------------------------------------
// Cross-entropy fused with softmax (and binary cross-entropy with sigmoid, classes = 1) on
// logits, weighted as in PyTorch: mean = sum_i w[y_i] l_i / sum_i w[y_i]. class_weights: device
// array of `classes` doubles (2 for the binary loss), or null for all 1. dlogits (may be null)
// receives the gradient of the mean. The mean goes to the context's loss accumulator (replacing
// it); flowpic_cuda_nn_read_loss waits and reads it.
int flowpic_cuda_nn_softmax_cross_entropy(flowpic_cuda_nn* context, const float* logits, const std::int32_t* labels,
                                          const double* class_weights, std::size_t n, std::uint32_t classes,
                                          float* dlogits);
int flowpic_cuda_nn_sigmoid_binary_cross_entropy(flowpic_cuda_nn* context, const float* logits,
                                                 const std::int32_t* labels, const double* class_weights,
                                                 std::size_t n, float* dlogits);
// Waits; *sum = the weighted loss sum, *norm = the weights' sum (the mean is sum / norm).
// FLOWPIC_CUDA_BAD_LABEL or FLOWPIC_CUDA_ZERO_WEIGHT when the last loss call saw one.
int flowpic_cuda_nn_read_loss(flowpic_cuda_nn* context, double* sum, double* norm);

// ---- optimisers (PyTorch's rules, moments in float64 as the CPU optimisers) ----------------
int flowpic_cuda_nn_adam_step(flowpic_cuda_nn* context, const flowpic_cuda_adam* a, float* params, const float* grads,
                              double* m, double* v, std::size_t count);
// SGD with momentum: v = mu v + g (v = g on the first step), p -= lr v; momentum 0: p -= lr g.
int flowpic_cuda_nn_sgd_step(flowpic_cuda_nn* context, double lr, double momentum, int first, float* params,
                             const float* grads, double* velocity, std::size_t count);

}  // extern "C"
