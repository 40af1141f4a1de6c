// cuDNN + cuBLAS as a baseline for flowpic's CUDA network kernels (cudnn_network_baseline.hpp).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "cudnn_network_baseline.hpp"

namespace {

constexpr int dnn_base = -100000, blas_base = -200000;  // cuDNN 9 statuses run up to ~10000
constexpr std::size_t workspace_limit = std::size_t{1} << 30;

int status_of(cudaError_t e) { return static_cast<int>(e); }
int status_of(cudnnStatus_t s) { return s == CUDNN_STATUS_SUCCESS ? 0 : dnn_base - static_cast<int>(s); }
int status_of(cublasStatus_t s) { return s == CUBLAS_STATUS_SUCCESS ? 0 : blas_base - static_cast<int>(s); }

// Returns the status of a failed call from the enclosing function.
#define BASELINE_CHECK(call)                       \
    do {                                           \
        if (const int s_ = status_of(call); s_) return s_; \
    } while (0)

struct buffer {
    void* p = nullptr;
    std::size_t cap = 0;
    bool pinned = false;
    cudaError_t reserve(std::size_t bytes) {
        if (bytes <= cap && p) return cudaSuccess;
        release();
        const cudaError_t e = pinned ? cudaMallocHost(&p, bytes ? bytes : 1) : cudaMalloc(&p, bytes ? bytes : 1);
        if (e == cudaSuccess) cap = bytes;
        else p = nullptr;
        return e;
    }
    void release() {
        if (p) pinned ? cudaFreeHost(p) : cudaFree(p);
        p = nullptr;
        cap = 0;
    }
    template <class T>
    T* as() const {
        return static_cast<T*>(p);
    }
};

constexpr unsigned threads = 256;

// dz = (softmax - onehot) / n and the mean loss -log p[label], in one block (n * classes is small).
__global__ void __launch_bounds__(threads) xent_grad(const float* probs, const std::int32_t* labels, float* dz,
                                                     float* loss, unsigned n, unsigned classes) {
    __shared__ float part[threads];
    float sum = 0;
    const float inv = 1.0f / static_cast<float>(n);
    for (unsigned i = threadIdx.x; i < n * classes; i += threads) {
        const unsigned s = i / classes, c = i % classes;
        const bool hit = static_cast<unsigned>(labels[s]) == c;
        const float p = probs[i];
        dz[i] = (p - (hit ? 1.0f : 0.0f)) * inv;
        if (hit) sum -= logf(fmaxf(p, 1e-30f));
    }
    part[threadIdx.x] = sum;
    __syncthreads();
    for (unsigned h = threads / 2; h > 0; h /= 2) {
        if (threadIdx.x < h) part[threadIdx.x] += part[threadIdx.x + h];
        __syncthreads();
    }
    if (threadIdx.x == 0) *loss = part[0] * inv;
}

// PyTorch's Adam (float moments).
__global__ void __launch_bounds__(threads) adam_step(float* p, const float* g, float* m, float* v, std::size_t count,
                                                     float lr, float b1, float b2, float eps, float bc1, float bc2) {
    for (std::size_t i = blockIdx.x * std::size_t{threads} + threadIdx.x; i < count;
         i += std::size_t{gridDim.x} * threads) {
        const float gi = g[i];
        const float mi = b1 * m[i] + (1 - b1) * gi;
        const float vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= (lr / bc1) * mi / (sqrtf(vi) / sqrtf(bc2) + eps);
    }
}

struct layer_state {
    cudnn_baseline_layer spec{};
    std::uint32_t oc = 1, oh = 1, ow = 1;  // output shape
    std::size_t param_offset = 0, weights = 0, biases = 0;
    cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
    cudnnFilterDescriptor_t filter = nullptr;
    cudnnConvolutionDescriptor_t conv_fwd = nullptr, conv_bwd_data = nullptr, conv_bwd_filter = nullptr;
    cudnnConvolutionFwdAlgo_t fwd_algo{};
    cudnnConvolutionBwdDataAlgo_t bwd_data_algo{};
    cudnnConvolutionBwdFilterAlgo_t bwd_filter_algo{};
    cudnnPoolingDescriptor_t pool = nullptr;
    cudnnDropoutDescriptor_t dropout = nullptr;
    buffer dropout_states, dropout_reserve, out;

    [[nodiscard]] std::size_t in_size() const { return std::size_t{spec.c} * spec.h * spec.w; }
    [[nodiscard]] std::size_t out_size() const { return std::size_t{oc} * oh * ow; }
};

int make_tensor(cudnnTensorDescriptor_t* d, std::size_t n, std::uint32_t c, std::uint32_t h, std::uint32_t w) {
    BASELINE_CHECK(cudnnCreateTensorDescriptor(d));
    BASELINE_CHECK(cudnnSetTensor4dDescriptor(*d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, static_cast<int>(n),
                                              static_cast<int>(c), static_cast<int>(h), static_cast<int>(w)));
    return 0;
}

}  // namespace

struct cudnn_baseline {
    std::size_t n = 0;
    bool tf32 = false;
    cudaStream_t stream = nullptr;
    cudnnHandle_t dnn = nullptr;
    cublasHandle_t blas = nullptr;
    cudnnActivationDescriptor_t relu = nullptr;
    std::vector<layer_state> layers;
    std::vector<const float*> io;  // io[i]: input of layer i
    std::size_t param_count = 0, max_activation = 0;
    std::uint64_t t = 0;  // Adam steps
    buffer params, grads, m, v, input, labels, g0, g1, dz, loss, workspace;
    buffer host_loss{nullptr, 0, true};

    ~cudnn_baseline() {
        if (stream) cudaStreamSynchronize(stream);
        for (auto& l : layers) {
            for (auto* d : {&l.x, &l.y, &l.bias})
                if (*d) cudnnDestroyTensorDescriptor(*d);
            if (l.filter) cudnnDestroyFilterDescriptor(l.filter);
            for (auto* d : {&l.conv_fwd, &l.conv_bwd_data, &l.conv_bwd_filter})
                if (*d) cudnnDestroyConvolutionDescriptor(*d);
            if (l.pool) cudnnDestroyPoolingDescriptor(l.pool);
            if (l.dropout) cudnnDestroyDropoutDescriptor(l.dropout);
            l.dropout_states.release();
            l.dropout_reserve.release();
            l.out.release();
        }
        for (buffer* b : {&params, &grads, &m, &v, &input, &labels, &g0, &g1, &dz, &loss, &workspace, &host_loss})
            b->release();
        if (relu) cudnnDestroyActivationDescriptor(relu);
        if (blas) cublasDestroy(blas);
        if (dnn) cudnnDestroy(dnn);
        if (stream) cudaStreamDestroy(stream);
    }

    int setup_conv(layer_state& l) {
        const auto& g = l.spec.conv;
        if (g.c != l.spec.c || g.h != l.spec.h || g.w != l.spec.w) return FLOWPIC_CUDA_INVALID_ARGUMENT;
        // Symmetric padding: the larger of flowpic's before/after (Keras 'same': 2 and 3 -> 3).
        const long pb = static_cast<long>((g.oh - 1) * g.sh + g.kh) - static_cast<long>(g.h + g.pt);
        const long pr = static_cast<long>((g.ow - 1) * g.sw + g.kw) - static_cast<long>(g.w + g.pl);
        const int ph = static_cast<int>(std::max<long>(g.pt, pb)), pw = static_cast<int>(std::max<long>(g.pl, pr));
        l.oc = g.f;
        l.oh = g.oh;
        l.ow = g.ow;
        l.weights = std::size_t{g.f} * g.c * g.kh * g.kw;
        l.biases = g.f;
        BASELINE_CHECK(cudnnCreateFilterDescriptor(&l.filter));
        BASELINE_CHECK(cudnnSetFilter4dDescriptor(l.filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, static_cast<int>(g.f),
                                                  static_cast<int>(g.c), static_cast<int>(g.kh), static_cast<int>(g.kw)));
        if (const int s = make_tensor(&l.bias, 1, g.f, 1, 1)) return s;
        const cudnnMathType_t math = tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
        for (auto* d : {&l.conv_fwd, &l.conv_bwd_data, &l.conv_bwd_filter}) {
            BASELINE_CHECK(cudnnCreateConvolutionDescriptor(d));
            BASELINE_CHECK(cudnnSetConvolution2dDescriptor(*d, ph, pw, static_cast<int>(g.sh), static_cast<int>(g.sw), 1, 1,
                                                           CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
            BASELINE_CHECK(cudnnSetConvolutionMathType(*d, math));
        }
        int on = 0, oc = 0, oh = 0, ow = 0;
        BASELINE_CHECK(cudnnGetConvolution2dForwardOutputDim(l.conv_fwd, l.x, l.filter, &on, &oc, &oh, &ow));
        if (static_cast<std::size_t>(on) != n || static_cast<std::uint32_t>(oc) != g.f ||
            static_cast<std::uint32_t>(oh) != g.oh || static_cast<std::uint32_t>(ow) != g.ow)
            return FLOWPIC_CUDA_INVALID_ARGUMENT;  // not flowpic's shape: not the same work
        return 0;
    }

    // The fastest algorithms that fit the workspace limit, measured by cuDNN on these shapes.
    int find_algorithms(layer_state& l, bool first, std::size_t& ws) {
        int found = 0;
        cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        BASELINE_CHECK(cudnnFindConvolutionForwardAlgorithm(dnn, l.x, l.filter, l.conv_fwd, l.y,
                                                            CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, fwd));
        int k = pick(fwd, found);
        if (k < 0) return dnn_base - CUDNN_STATUS_NOT_SUPPORTED;
        l.fwd_algo = fwd[k].algo;
        BASELINE_CHECK(use_math(l.conv_fwd, fwd[k].mathType));
        ws = std::max(ws, fwd[k].memory);

        cudnnConvolutionBwdFilterAlgoPerf_t bf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        BASELINE_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(dnn, l.x, l.y, l.conv_bwd_filter, l.filter,
                                                                   CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &found, bf));
        if ((k = pick(bf, found)) < 0) return dnn_base - CUDNN_STATUS_NOT_SUPPORTED;
        l.bwd_filter_algo = bf[k].algo;
        BASELINE_CHECK(use_math(l.conv_bwd_filter, bf[k].mathType));
        ws = std::max(ws, bf[k].memory);

        if (!first) {  // the first layer's input gradient is never needed
            cudnnConvolutionBwdDataAlgoPerf_t bd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
            BASELINE_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(dnn, l.filter, l.y, l.conv_bwd_data, l.x,
                                                                     CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &found, bd));
            if ((k = pick(bd, found)) < 0) return dnn_base - CUDNN_STATUS_NOT_SUPPORTED;
            l.bwd_data_algo = bd[k].algo;
            BASELINE_CHECK(use_math(l.conv_bwd_data, bd[k].mathType));
            ws = std::max(ws, bd[k].memory);
        }
        return 0;
    }
    template <class Perf>
    int pick(const Perf* p, int found) const {
        for (int i = 0; i < found; ++i)  // sorted by time
            if (p[i].status == CUDNN_STATUS_SUCCESS && p[i].memory <= workspace_limit &&
                (tf32 || (p[i].mathType != CUDNN_TENSOR_OP_MATH && p[i].mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)))
                return i;
        return -1;
    }
    // The algorithm's math type in tf32 mode; fp32 keeps CUDNN_FMA_MATH (DEFAULT would allow TF32).
    cudnnStatus_t use_math(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) const {
        return tf32 ? cudnnSetConvolutionMathType(d, m) : CUDNN_STATUS_SUCCESS;
    }

    int create(const cudnn_baseline_layer* specs, std::size_t count) {
        BASELINE_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        BASELINE_CHECK(cudnnCreate(&dnn));
        BASELINE_CHECK(cudnnSetStream(dnn, stream));
        BASELINE_CHECK(cublasCreate(&blas));
        BASELINE_CHECK(cublasSetStream(blas, stream));
        BASELINE_CHECK(cublasSetMathMode(blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
        BASELINE_CHECK(cudnnCreateActivationDescriptor(&relu));
        BASELINE_CHECK(cudnnSetActivationDescriptor(relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0));

        layers.resize(count);
        std::size_t ws = 0;
        for (std::size_t i = 0; i < count; ++i) {
            layer_state& l = layers[i];
            l.spec = specs[i];
            const auto& s = l.spec;
            if (i > 0) {  // chained shapes: this layer's input is the previous output
                const auto& p = layers[i - 1];
                if (std::size_t{s.c} * s.h * s.w != p.out_size()) return FLOWPIC_CUDA_INVALID_ARGUMENT;
            }
            if (const int st = make_tensor(&l.x, n, s.c, s.h, s.w)) return st;
            l.oc = s.c;
            l.oh = s.h;
            l.ow = s.w;
            switch (s.kind) {
                case CUDNN_BASELINE_CONV:
                    if (const int st = setup_conv(l)) return st;
                    break;
                case CUDNN_BASELINE_MAX_POOL: {
                    const auto& g = s.pool;
                    BASELINE_CHECK(cudnnCreatePoolingDescriptor(&l.pool));
                    BASELINE_CHECK(cudnnSetPooling2dDescriptor(l.pool, CUDNN_POOLING_MAX, CUDNN_NOT_PROPAGATE_NAN,
                                                               static_cast<int>(g.k), static_cast<int>(g.k), 0, 0,
                                                               static_cast<int>(g.s), static_cast<int>(g.s)));
                    int on = 0, oc = 0, oh = 0, ow = 0;
                    BASELINE_CHECK(cudnnGetPooling2dForwardOutputDim(l.pool, l.x, &on, &oc, &oh, &ow));
                    if (static_cast<std::uint32_t>(oh) != g.oh || static_cast<std::uint32_t>(ow) != g.ow)
                        return FLOWPIC_CUDA_INVALID_ARGUMENT;
                    l.oh = g.oh;
                    l.ow = g.ow;
                    break;
                }
                case CUDNN_BASELINE_RELU:
                case CUDNN_BASELINE_SOFTMAX: break;
                case CUDNN_BASELINE_DROPOUT: {
                    std::size_t bytes = 0;
                    BASELINE_CHECK(cudnnCreateDropoutDescriptor(&l.dropout));
                    BASELINE_CHECK(cudnnDropoutGetStatesSize(dnn, &bytes));
                    BASELINE_CHECK(l.dropout_states.reserve(bytes));
                    BASELINE_CHECK(cudnnSetDropoutDescriptor(l.dropout, dnn, s.rate, l.dropout_states.p, bytes, 7 + i));
                    BASELINE_CHECK(cudnnDropoutGetReserveSpaceSize(l.x, &bytes));
                    BASELINE_CHECK(l.dropout_reserve.reserve(bytes));
                    break;
                }
                case CUDNN_BASELINE_FLATTEN:
                    l.oc = s.c * s.h * s.w;
                    l.oh = l.ow = 1;
                    break;
                case CUDNN_BASELINE_DENSE:
                    l.oc = s.units;
                    l.oh = l.ow = 1;
                    l.weights = std::size_t{s.units} * l.in_size();
                    l.biases = s.units;
                    if (const int st = make_tensor(&l.bias, 1, s.units, 1, 1)) return st;
                    break;
                default: return FLOWPIC_CUDA_INVALID_ARGUMENT;
            }
            if (s.kind == CUDNN_BASELINE_SOFTMAX && i + 1 != count) return FLOWPIC_CUDA_INVALID_ARGUMENT;
            if (const int st = make_tensor(&l.y, n, l.oc, l.oh, l.ow)) return st;
            l.param_offset = param_count;
            param_count += l.weights + l.biases;
            max_activation = std::max(max_activation, std::max(l.in_size(), l.out_size()));
            if (s.kind != CUDNN_BASELINE_FLATTEN) BASELINE_CHECK(l.out.reserve(n * l.out_size() * sizeof(float)));
        }
        if (count < 2 || layers.back().spec.kind != CUDNN_BASELINE_SOFTMAX) return FLOWPIC_CUDA_INVALID_ARGUMENT;
        for (std::size_t i = 0; i < count; ++i)
            if (layers[i].spec.kind == CUDNN_BASELINE_CONV)
                if (const int st = find_algorithms(layers[i], i == 0, ws)) return st;
        const std::size_t classes = layers.back().out_size();
        BASELINE_CHECK(workspace.reserve(ws));
        for (buffer* b : {&params, &grads, &m, &v}) BASELINE_CHECK(b->reserve(param_count * sizeof(float)));
        BASELINE_CHECK(input.reserve(n * layers.front().in_size() * sizeof(float)));
        BASELINE_CHECK(labels.reserve(n * sizeof(std::int32_t)));
        BASELINE_CHECK(g0.reserve(n * max_activation * sizeof(float)));
        BASELINE_CHECK(g1.reserve(n * max_activation * sizeof(float)));
        BASELINE_CHECK(dz.reserve(n * classes * sizeof(float)));
        BASELINE_CHECK(loss.reserve(sizeof(float)));
        BASELINE_CHECK(host_loss.reserve(sizeof(float)));
        BASELINE_CHECK(cudaMemsetAsync(m.p, 0, param_count * sizeof(float), stream));
        BASELINE_CHECK(cudaMemsetAsync(v.p, 0, param_count * sizeof(float), stream));
        // Glorot-uniform weights (fixed seed), zero biases: the values do not change the speed.
        std::vector<float> host(param_count, 0.0f);
        std::uint64_t state = 0x9e3779b97f4a7c15ull;
        for (const auto& l : layers) {
            const double fan = static_cast<double>(l.in_size() + l.out_size());
            const double limit = std::sqrt(6.0 / (fan > 0 ? fan : 1));
            for (std::size_t k = 0; k < l.weights; ++k) {
                state = state * 6364136223846793005ull + 1442695040888963407ull;
                const double u = static_cast<double>(state >> 11) / 9007199254740992.0;
                host[l.param_offset + k] = static_cast<float>((2 * u - 1) * limit);
            }
        }
        BASELINE_CHECK(cudaMemcpyAsync(params.p, host.data(), param_count * sizeof(float), cudaMemcpyHostToDevice, stream));
        io.assign(count + 1, nullptr);
        BASELINE_CHECK(cudaStreamSynchronize(stream));
        return 0;
    }

    int forward(bool training) {
        const float one = 1, zero = 0;
        io[0] = input.as<float>();
        const int ni = static_cast<int>(n);
        for (std::size_t i = 0; i < layers.size(); ++i) {
            layer_state& l = layers[i];
            const float* x = io[i];
            float* y = l.out.as<float>();
            const float* w = params.as<float>() + l.param_offset;
            switch (l.spec.kind) {
                case CUDNN_BASELINE_CONV:
                    BASELINE_CHECK(cudnnConvolutionForward(dnn, &one, l.x, x, l.filter, w, l.conv_fwd, l.fwd_algo,
                                                           workspace.p, workspace.cap, &zero, l.y, y));
                    BASELINE_CHECK(cudnnAddTensor(dnn, &one, l.bias, w + l.weights, &one, l.y, y));
                    break;
                case CUDNN_BASELINE_MAX_POOL:
                    BASELINE_CHECK(cudnnPoolingForward(dnn, l.pool, &one, l.x, x, &zero, l.y, y));
                    break;
                case CUDNN_BASELINE_RELU:
                    BASELINE_CHECK(cudnnActivationForward(dnn, relu, &one, l.x, x, &zero, l.y, y));
                    break;
                case CUDNN_BASELINE_DROPOUT:
                    if (!training) {
                        y = const_cast<float*>(x);
                        break;
                    }
                    BASELINE_CHECK(cudnnDropoutForward(dnn, l.dropout, l.x, x, l.y, y, l.dropout_reserve.p,
                                                       l.dropout_reserve.cap));
                    break;
                case CUDNN_BASELINE_FLATTEN: y = const_cast<float*>(x); break;
                case CUDNN_BASELINE_DENSE: {
                    // row-major y[n][out] = x[n][in] W^T: column-major Y^T = W^T^T X^T
                    const int in = static_cast<int>(l.in_size()), out = static_cast<int>(l.spec.units);
                    BASELINE_CHECK(cublasSgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, out, ni, in, &one, w, in, x, in, &zero, y, out));
                    BASELINE_CHECK(cudnnAddTensor(dnn, &one, l.bias, w + l.weights, &one, l.y, y));
                    break;
                }
                case CUDNN_BASELINE_SOFTMAX:
                    BASELINE_CHECK(cudnnSoftmaxForward(dnn, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &one, l.x,
                                                       x, &zero, l.y, y));
                    break;
                default: return FLOWPIC_CUDA_INVALID_ARGUMENT;
            }
            io[i + 1] = y;
        }
        return 0;
    }

    int backward() {
        const float one = 1, zero = 0;
        const int ni = static_cast<int>(n);
        const float* dy = dz.as<float>();
        auto other = [&](const float* d) { return d == g0.as<float>() ? g1.as<float>() : g0.as<float>(); };
        for (std::size_t r = layers.size() - 1; r-- > 0;) {  // the softmax head is fused into the loss
            layer_state& l = layers[r];
            const float* x = io[r];
            const float* y = io[r + 1];
            const float* w = params.as<float>() + l.param_offset;
            float* dw = grads.as<float>() + l.param_offset;
            const bool need_dx = r > 0;
            float* dx = other(dy);
            switch (l.spec.kind) {
                case CUDNN_BASELINE_CONV:
                    BASELINE_CHECK(cudnnConvolutionBackwardBias(dnn, &one, l.y, dy, &zero, l.bias, dw + l.weights));
                    BASELINE_CHECK(cudnnConvolutionBackwardFilter(dnn, &one, l.x, x, l.y, dy, l.conv_bwd_filter,
                                                                  l.bwd_filter_algo, workspace.p, workspace.cap, &zero,
                                                                  l.filter, dw));
                    if (need_dx)
                        BASELINE_CHECK(cudnnConvolutionBackwardData(dnn, &one, l.filter, w, l.y, dy, l.conv_bwd_data,
                                                                    l.bwd_data_algo, workspace.p, workspace.cap, &zero,
                                                                    l.x, dx));
                    break;
                case CUDNN_BASELINE_DENSE: {
                    const int in = static_cast<int>(l.in_size()), out = static_cast<int>(l.spec.units);
                    // dW[out][in] = dy^T x: column-major dW^T = X^T dY
                    BASELINE_CHECK(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, ni, &one, x, in, dy, out, &zero, dw, in));
                    BASELINE_CHECK(cudnnConvolutionBackwardBias(dnn, &one, l.y, dy, &zero, l.bias, dw + l.weights));
                    if (need_dx)  // dx[n][in] = dy W: column-major dX^T = W^T dY^T
                        BASELINE_CHECK(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, in, ni, out, &one, w, in, dy, out, &zero, dx, in));
                    break;
                }
                case CUDNN_BASELINE_MAX_POOL:
                    if (need_dx) BASELINE_CHECK(cudnnPoolingBackward(dnn, l.pool, &one, l.y, y, l.y, dy, l.x, x, &zero, l.x, dx));
                    break;
                case CUDNN_BASELINE_RELU:
                    if (need_dx) BASELINE_CHECK(cudnnActivationBackward(dnn, relu, &one, l.y, y, l.y, dy, l.x, x, &zero, l.x, dx));
                    break;
                case CUDNN_BASELINE_DROPOUT:
                    if (need_dx)
                        BASELINE_CHECK(cudnnDropoutBackward(dnn, l.dropout, l.y, dy, l.x, dx, l.dropout_reserve.p,
                                                            l.dropout_reserve.cap));
                    break;
                case CUDNN_BASELINE_FLATTEN: continue;  // same values, same gradient
                default: return FLOWPIC_CUDA_INVALID_ARGUMENT;
            }
            if (need_dx) dy = dx;
        }
        return 0;
    }

    int train_step() {
        if (const int s = forward(true)) return s;
        const std::size_t classes = layers.back().out_size();
        xent_grad<<<1, threads, 0, stream>>>(io.back(), labels.as<std::int32_t>(), dz.as<float>(), loss.as<float>(),
                                             static_cast<unsigned>(n), static_cast<unsigned>(classes));
        BASELINE_CHECK(cudaGetLastError());
        BASELINE_CHECK(cudaMemcpyAsync(host_loss.p, loss.p, sizeof(float), cudaMemcpyDeviceToHost, stream));
        if (const int s = backward()) return s;
        ++t;
        const float b1 = 0.9f, b2 = 0.999f;
        const float bc1 = 1 - std::pow(b1, static_cast<float>(t)), bc2 = 1 - std::pow(b2, static_cast<float>(t));
        const unsigned blocks = static_cast<unsigned>(std::min<std::size_t>((param_count + threads - 1) / threads, 1024));
        adam_step<<<blocks, threads, 0, stream>>>(params.as<float>(), grads.as<float>(), m.as<float>(), v.as<float>(),
                                                  param_count, 1e-3f, b1, b2, 1e-8f, bc1, bc2);
        BASELINE_CHECK(cudaGetLastError());
        return 0;
    }
};

int cudnn_baseline_create(const cudnn_baseline_layer* layers, std::size_t count, std::size_t batch, bool tf32,
                          cudnn_baseline** out) {
    if (!layers || !out || count == 0 || batch == 0 || batch > 1u << 30) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    auto* b = new cudnn_baseline;
    b->n = batch;
    b->tf32 = tf32;
    if (const int s = b->create(layers, count)) {
        delete b;
        return s;
    }
    *out = b;
    return 0;
}

void cudnn_baseline_destroy(cudnn_baseline* b) { delete b; }

const char* cudnn_baseline_status_string(int status) {
    if (status == 0) return "success";
    if (status > 0) return cudaGetErrorString(static_cast<cudaError_t>(status));
    if (status <= blas_base) return cublasGetStatusString(static_cast<cublasStatus_t>(blas_base - status));
    if (status <= dnn_base) return cudnnGetErrorString(static_cast<cudnnStatus_t>(dnn_base - status));
    if (status == FLOWPIC_CUDA_INVALID_ARGUMENT)
        return "invalid argument (a layer list the baseline does not build, or a shape other than flowpic's)";
    return "unknown status";
}

std::size_t cudnn_baseline_param_count(const cudnn_baseline* b) { return b ? b->param_count : 0; }

int cudnn_baseline_upload(cudnn_baseline* b, const float* x, const std::int32_t* labels) {
    if (!b || !x || !labels) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    BASELINE_CHECK(cudaMemcpyAsync(b->input.p, x, b->n * b->layers.front().in_size() * sizeof(float),
                                   cudaMemcpyHostToDevice, b->stream));
    BASELINE_CHECK(cudaMemcpyAsync(b->labels.p, labels, b->n * sizeof(std::int32_t), cudaMemcpyHostToDevice, b->stream));
    BASELINE_CHECK(cudaStreamSynchronize(b->stream));
    return 0;
}

int cudnn_baseline_forward(cudnn_baseline* b) {
    return b ? b->forward(false) : FLOWPIC_CUDA_INVALID_ARGUMENT;
}

int cudnn_baseline_train_step(cudnn_baseline* b) {
    return b ? b->train_step() : FLOWPIC_CUDA_INVALID_ARGUMENT;
}

int cudnn_baseline_synchronize(cudnn_baseline* b, double* loss) {
    if (!b) return FLOWPIC_CUDA_INVALID_ARGUMENT;
    BASELINE_CHECK(cudaStreamSynchronize(b->stream));
    if (loss) *loss = static_cast<double>(*b->host_loss.as<float>());
    return 0;
}
