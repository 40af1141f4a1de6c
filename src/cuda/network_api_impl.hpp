#pragma once
// The network half of flowpic::cuda's C API (flowpic/cuda/network_api.hpp), written once over a
// device interface that the including file provides as namespace flowpic::cuda::nn_device:
// src/cuda/network_api.cu binds it to the CUDA runtime (every op a grid-stride kernel on the
// context's stream); the CPU tests bind it to host memory and run every op for every element
// (tests/support/cuda_network_emulation.cpp), so that this file, the ops and nn::cuda_network
// above them are exercised on machines without a GPU.
//
// nn_device provides: stream_t; out_of_memory (a status); device_count, current_device,
// set_device; stream_create, stream_destroy; allocate, release; copy (to_device, to_host,
// on_device), zero, synchronize (all ordered on a stream); launch(stream, op). Each returns a
// status: 0 or the backend's error (> 0).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <new>

#include "flowpic/cuda/growing_buffer.hpp"
#include "flowpic/cuda/network_api.hpp"
#include "flowpic/cuda/network_math.hpp"

namespace dv = flowpic::cuda::nn_device;
namespace nm = flowpic::cuda::nn_math;

namespace flowpic::cuda::nn_detail {

// The device interface's memory, for the one growing buffer.
struct device_memory {
    int allocate(void** p, std::size_t bytes) { return dv::allocate(p, bytes); }
    void release(void* p) noexcept { dv::release(p); }
};
using buffer = growing_buffer<device_memory>;

}  // namespace flowpic::cuda::nn_detail

struct flowpic_cuda_nn {
    int device = 0;
    dv::stream_t stream{};
    bool has_stream = false;
    flowpic::cuda::nn_detail::buffer scratch;  // partial sums of parameter gradients
    flowpic::cuda::nn_detail::buffer losses;   // per-sample losses
    flowpic::cuda::nn_detail::buffer state;    // nm::loss_state

    flowpic_cuda_nn() = default;
    flowpic_cuda_nn(const flowpic_cuda_nn&) = delete;
    flowpic_cuda_nn& operator=(const flowpic_cuda_nn&) = delete;
    ~flowpic_cuda_nn() {
        dv::set_device(device);
        if (has_stream) {
            dv::synchronize(stream);
            dv::stream_destroy(stream);
        }
    }
};

namespace {

template <class Op>
int launch(flowpic_cuda_nn* ctx, const Op& op) {
    if (op.count() == 0) return 0;
    return dv::launch(ctx->stream, op);
}

int use_device(const flowpic_cuda_nn* ctx) { return dv::set_device(ctx->device); }

// Every input read is bounds-checked by the ops, so a geometry only has to be non-empty.
bool valid(const flowpic_cuda_conv2d* g) {
    return g && g->c && g->h && g->w && g->f && g->kh && g->kw && g->sh && g->sw && g->oh && g->ow;
}
bool valid(const flowpic_cuda_pool2d* g) {
    return g && g->c && g->h && g->w && g->k && g->s && g->oh && g->ow && (std::size_t{g->oh} - 1) * g->s + g->k <= g->h &&
           (std::size_t{g->ow} - 1) * g->s + g->k <= g->w;
}

#define FLOWPIC_NN_ENTER(ctx)                             \
    do {                                                  \
        if (!(ctx)) return FLOWPIC_CUDA_INVALID_ARGUMENT; \
        if (const int s_ = use_device(ctx); s_) return s_; \
    } while (0)

}  // namespace

extern "C" {

int flowpic_cuda_nn_create(int device, flowpic_cuda_nn** context) {
    if (!context) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    *context = nullptr;
    int count = 0;
    if (const int e = dv::device_count(&count); e) return e;
    if (count == 0) return FLOWPIC_CUDA_NO_DEVICE;
    if (device < 0 && dv::current_device(&device)) return FLOWPIC_CUDA_NO_DEVICE;
    if (device >= count) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    auto* ctx = new (std::nothrow) flowpic_cuda_nn;
    if (!ctx) return dv::out_of_memory;
    ctx->device = device;
    auto fail = [&](int s) {
        delete ctx;
        return s;
    };
    if (const int s = use_device(ctx); s) return fail(s);
    if (const int e = dv::stream_create(&ctx->stream); e) return fail(e);
    ctx->has_stream = true;
    if (const int e = ctx->state.reserve(sizeof(nm::loss_state)); e) return fail(e);
    if (const int e = dv::zero(ctx->state.data(), sizeof(nm::loss_state), ctx->stream); e) return fail(e);
    *context = ctx;
    return FLOWPIC_CUDA_SUCCESS;
}

void flowpic_cuda_nn_destroy(flowpic_cuda_nn* context) { delete context; }

int flowpic_cuda_nn_device(const flowpic_cuda_nn* context, int* device) {
    if (!context || !device) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    *device = context->device;
    return FLOWPIC_CUDA_SUCCESS;
}

int flowpic_cuda_nn_malloc(flowpic_cuda_nn* ctx, std::size_t bytes, void** pointer) {
    FLOWPIC_NN_ENTER(ctx);
    if (!pointer) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    *pointer = nullptr;
    return dv::allocate(pointer, bytes ? bytes : 1);
}

int flowpic_cuda_nn_free(flowpic_cuda_nn* ctx, void* pointer) {
    FLOWPIC_NN_ENTER(ctx);
    if (!pointer) return FLOWPIC_CUDA_SUCCESS;
    // queued kernels may still read it
    if (const int e = dv::synchronize(ctx->stream); e) return e;
    return dv::release(pointer);
}

int flowpic_cuda_nn_upload(flowpic_cuda_nn* ctx, void* dst, const void* src, std::size_t bytes) {
    FLOWPIC_NN_ENTER(ctx);
    if (!bytes) return FLOWPIC_CUDA_SUCCESS;
    if (!dst || !src) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (const int e = dv::copy(dst, src, bytes, dv::to_device, ctx->stream); e) return e;
    return dv::synchronize(ctx->stream);
}

int flowpic_cuda_nn_download(flowpic_cuda_nn* ctx, void* dst, const void* src, std::size_t bytes) {
    FLOWPIC_NN_ENTER(ctx);
    if (!bytes) return FLOWPIC_CUDA_SUCCESS;
    if (!dst || !src) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (const int e = dv::copy(dst, src, bytes, dv::to_host, ctx->stream); e) return e;
    return dv::synchronize(ctx->stream);
}

int flowpic_cuda_nn_copy(flowpic_cuda_nn* ctx, void* dst, const void* src, std::size_t bytes) {
    FLOWPIC_NN_ENTER(ctx);
    if (!bytes) return FLOWPIC_CUDA_SUCCESS;
    if (!dst || !src) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return dv::copy(dst, src, bytes, dv::on_device, ctx->stream);
}

int flowpic_cuda_nn_zero(flowpic_cuda_nn* ctx, void* dst, std::size_t bytes) {
    FLOWPIC_NN_ENTER(ctx);
    if (!bytes) return FLOWPIC_CUDA_SUCCESS;
    if (!dst) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return dv::zero(dst, bytes, ctx->stream);
}

int flowpic_cuda_nn_synchronize(flowpic_cuda_nn* ctx) {
    FLOWPIC_NN_ENTER(ctx);
    return dv::synchronize(ctx->stream);
}

int flowpic_cuda_nn_to_float(flowpic_cuda_nn* ctx, const void* src, std::uint32_t value_bytes, std::uint32_t kind,
                             float* dst, std::size_t count) {
    FLOWPIC_NN_ENTER(ctx);
    if (!count) return FLOWPIC_CUDA_SUCCESS;
    if (!src || !dst || kind > FLOWPIC_CUDA_VALUE_FLOAT) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (value_bytes != 1 && value_bytes != 2 && value_bytes != 4 && value_bytes != 8) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (kind == FLOWPIC_CUDA_VALUE_FLOAT && value_bytes < 4) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::to_float_op{src, value_bytes, kind, dst, count});
}

int flowpic_cuda_nn_conv2d_forward(flowpic_cuda_nn* ctx, const flowpic_cuda_conv2d* g, const float* w, const float* b,
                                   const float* x, float* y, std::size_t n) {
    FLOWPIC_NN_ENTER(ctx);
    if (!valid(g)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (!n) return FLOWPIC_CUDA_SUCCESS;
    if (!w || !b || !x || !y) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::conv_forward_op{*g, w, b, x, y, n});
}

int flowpic_cuda_nn_conv2d_backward_data(flowpic_cuda_nn* ctx, const flowpic_cuda_conv2d* g, const float* w,
                                         const float* dy, float* dx, std::size_t n) {
    FLOWPIC_NN_ENTER(ctx);
    if (!valid(g)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (!n) return FLOWPIC_CUDA_SUCCESS;
    if (!w || !dy || !dx) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::conv_backward_data_op{*g, w, dy, dx, n});
}

int flowpic_cuda_nn_conv2d_backward_params(flowpic_cuda_nn* ctx, const flowpic_cuda_conv2d* g, const float* x,
                                           const float* dy, float* dw, float* db, std::size_t n) {
    FLOWPIC_NN_ENTER(ctx);
    if (!valid(g)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (!n) return FLOWPIC_CUDA_SUCCESS;
    if (!x || !dy || !dw || !db) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    const nm::conv_wgrad_plan plan = nm::plan_conv_wgrad(*g, n);
    // the scratch buffer is shared by every call on this stream; growing it waits for users
    const std::size_t bytes = plan.chunks * plan.per_chunk * sizeof(float);
    if (bytes > ctx->scratch.capacity()) {
        if (const int e = dv::synchronize(ctx->stream); e) return e;
        if (const int e = ctx->scratch.reserve(bytes); e) return e;
    }
    float* partial = ctx->scratch.as<float>();
    if (const int s = launch(ctx, nm::conv_wgrad_partial_op{*g, x, dy, partial, plan}); s) return s;
    const std::size_t K = std::size_t{g->c} * g->kh * g->kw;
    return launch(ctx, nm::conv_wgrad_reduce_op{partial, plan.chunks, g->f, K, dw, db});
}

int flowpic_cuda_nn_max_pool2d_forward(flowpic_cuda_nn* ctx, const flowpic_cuda_pool2d* g, const float* x, float* y,
                                       std::size_t n) {
    FLOWPIC_NN_ENTER(ctx);
    if (!valid(g)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (!n) return FLOWPIC_CUDA_SUCCESS;
    if (!x || !y) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::pool_forward_op{*g, x, y, n});
}

int flowpic_cuda_nn_max_pool2d_backward(flowpic_cuda_nn* ctx, const flowpic_cuda_pool2d* g, const float* x,
                                        const float* dy, float* dx, std::size_t n) {
    FLOWPIC_NN_ENTER(ctx);
    if (!valid(g)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (!n) return FLOWPIC_CUDA_SUCCESS;
    if (!x || !dy || !dx) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::pool_backward_op{*g, x, dy, dx, n});
}

int flowpic_cuda_nn_relu_forward(flowpic_cuda_nn* ctx, const float* x, float* y, std::size_t count) {
    FLOWPIC_NN_ENTER(ctx);
    if (count && (!x || !y)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::relu_forward_op{x, y, count});
}

int flowpic_cuda_nn_relu_backward(flowpic_cuda_nn* ctx, const float* y, const float* dy, float* dx, std::size_t count) {
    FLOWPIC_NN_ENTER(ctx);
    if (count && (!y || !dy || !dx)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::relu_backward_op{y, dy, dx, count});
}

int flowpic_cuda_nn_sigmoid_forward(flowpic_cuda_nn* ctx, const float* x, float* y, std::size_t count) {
    FLOWPIC_NN_ENTER(ctx);
    if (count && (!x || !y)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::sigmoid_forward_op{x, y, count});
}

int flowpic_cuda_nn_sigmoid_backward(flowpic_cuda_nn* ctx, const float* y, const float* dy, float* dx,
                                     std::size_t count) {
    FLOWPIC_NN_ENTER(ctx);
    if (count && (!y || !dy || !dx)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::sigmoid_backward_op{y, dy, dx, count});
}

int flowpic_cuda_nn_dropout(flowpic_cuda_nn* ctx, const flowpic_cuda_dropout* d, const float* x, float* y,
                            std::size_t n, std::size_t per_sample) {
    FLOWPIC_NN_ENTER(ctx);
    if (!d || d->unit == 0 || (n && per_sample && (!x || !y))) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::dropout_op{*d, x, y, n, per_sample});
}

int flowpic_cuda_nn_dense_forward(flowpic_cuda_nn* ctx, std::uint32_t in, std::uint32_t out, const float* w,
                                  const float* b, const float* x, float* y, std::size_t n) {
    FLOWPIC_NN_ENTER(ctx);
    if (!in || !out) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (n && (!w || !b || !x || !y)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::dense_forward_op{in, out, w, b, x, y, n});
}

int flowpic_cuda_nn_dense_backward_data(flowpic_cuda_nn* ctx, std::uint32_t in, std::uint32_t out, const float* w,
                                        const float* dy, float* dx, std::size_t n) {
    FLOWPIC_NN_ENTER(ctx);
    if (!in || !out) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (n && (!w || !dy || !dx)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::dense_backward_data_op{in, out, w, dy, dx, n});
}

int flowpic_cuda_nn_dense_backward_params(flowpic_cuda_nn* ctx, std::uint32_t in, std::uint32_t out, const float* x,
                                          const float* dy, float* dw, float* db, std::size_t n) {
    FLOWPIC_NN_ENTER(ctx);
    if (!in || !out) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    if (!n) return FLOWPIC_CUDA_SUCCESS;
    if (!x || !dy || !dw || !db) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::dense_backward_params_op{in, out, x, dy, dw, db, n});
}

int flowpic_cuda_nn_softmax_forward(flowpic_cuda_nn* ctx, const float* x, float* y, std::size_t n,
                                    std::uint32_t classes) {
    FLOWPIC_NN_ENTER(ctx);
    if (!classes || (n && (!x || !y))) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::softmax_forward_op{x, y, n, classes});
}

int flowpic_cuda_nn_softmax_backward(flowpic_cuda_nn* ctx, const float* y, const float* dy, float* dx, std::size_t n,
                                     std::uint32_t classes) {
    FLOWPIC_NN_ENTER(ctx);
    if (!classes || (n && (!y || !dy || !dx))) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::softmax_backward_op{y, dy, dx, n, classes});
}

}  // extern "C"

namespace {

template <class SampleOp>
int run_loss(flowpic_cuda_nn* ctx, const std::int32_t* labels, const double* class_weights, std::size_t n,
             std::size_t label_classes, SampleOp op) {
    if (n > ctx->losses.capacity() / sizeof(double)) {
        if (const int e = dv::synchronize(ctx->stream); e) return e;
        if (const int e = ctx->losses.reserve(n * sizeof(double)); e) return e;
    }
    auto* state = ctx->state.as<nm::loss_state>();
    if (const int s = launch(ctx, nm::loss_norm_op{labels, class_weights, n, label_classes, state}); s) return s;
    op.state = state;
    op.losses = ctx->losses.as<double>();
    if (const int s = launch(ctx, op); s) return s;
    return launch(ctx, nm::loss_sum_op{ctx->losses.as<double>(), n, state});
}

}  // namespace

extern "C" {

int flowpic_cuda_nn_softmax_cross_entropy(flowpic_cuda_nn* ctx, const float* logits, const std::int32_t* labels,
                                          const double* class_weights, std::size_t n, std::uint32_t classes,
                                          float* dlogits) {
    FLOWPIC_NN_ENTER(ctx);
    if (!classes || (n && (!logits || !labels))) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return run_loss(ctx, labels, class_weights, n, classes,
                    nm::cross_entropy_op{logits, labels, class_weights, n, classes, nullptr, nullptr, dlogits});
}

int flowpic_cuda_nn_sigmoid_binary_cross_entropy(flowpic_cuda_nn* ctx, const float* logits, const std::int32_t* labels,
                                                 const double* class_weights, std::size_t n, float* dlogits) {
    FLOWPIC_NN_ENTER(ctx);
    if (n && (!logits || !labels)) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return run_loss(ctx, labels, class_weights, n, 2,
                    nm::binary_cross_entropy_op{logits, labels, class_weights, n, nullptr, nullptr, dlogits});
}

int flowpic_cuda_nn_read_loss(flowpic_cuda_nn* ctx, double* sum, double* norm) {
    FLOWPIC_NN_ENTER(ctx);
    if (!sum || !norm) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    nm::loss_state st{};
    if (const int e = dv::copy(&st, ctx->state.data(), sizeof st, dv::to_host, ctx->stream); e) return e;
    if (const int e = dv::synchronize(ctx->stream); e) return e;
    *sum = st.sum;
    *norm = st.norm;
    if (st.bad_label) return FLOWPIC_CUDA_BAD_LABEL;
    if (!(st.norm > 0)) return FLOWPIC_CUDA_ZERO_WEIGHT;
    return FLOWPIC_CUDA_SUCCESS;
}

int flowpic_cuda_nn_adam_step(flowpic_cuda_nn* ctx, const flowpic_cuda_adam* a, float* params, const float* grads,
                              double* m, double* v, std::size_t count) {
    FLOWPIC_NN_ENTER(ctx);
    if (!a || a->t == 0 || (count && (!params || !grads || !m || !v))) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    // as nn::adam::step: bias corrections once, in float64 on the host
    const double bc1 = 1 - std::pow(a->beta1, static_cast<double>(a->t));
    const double bc2 = 1 - std::pow(a->beta2, static_cast<double>(a->t));
    return launch(ctx, nm::adam_op{a->beta1, a->beta2, a->eps, a->lr / bc1, std::sqrt(bc2), params, grads, m, v, count});
}

int flowpic_cuda_nn_sgd_step(flowpic_cuda_nn* ctx, double lr, double momentum, int first, float* params,
                             const float* grads, double* velocity, std::size_t count) {
    FLOWPIC_NN_ENTER(ctx);
    if (count && (!params || !grads || (momentum != 0.0 && !velocity))) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    return launch(ctx, nm::sgd_op{lr, momentum, first, params, grads, velocity, count});
}

}  // extern "C"
