#pragma once
// The scalar reference kernels: the plainest loops that implement each layer forward and
// backward, over any value type (float for parity, double for gradient checks). They are the
// oracle of the simd kernels; speed is not their concern. Sums run in double for float.
// Layout: NCHW; conv weights [f][c][kh][kw], dense weights [out][in] (PyTorch's layouts).
// Backward functions add into parameter gradients and overwrite input gradients.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "flowpic/nn/kernels/geometry.hpp"

namespace flowpic::nn::kernels::reference {

template <class T>
using acc_t = std::conditional_t<std::is_same_v<T, float>, double, T>;

template <class T>
void conv2d_forward(const conv_geometry& g, const T* w, const T* b, const T* x, T* y, std::size_t n) {
    for (std::size_t s = 0; s < n; ++s) {
        const T* xs = x + s * g.in_size();
        T* ys = y + s * g.out_size();
        for (std::size_t f = 0; f < g.f; ++f)
            for (std::size_t oy = 0; oy < g.oh; ++oy)
                for (std::size_t ox = 0; ox < g.ow; ++ox) {
                    acc_t<T> acc = b[f];
                    for (std::size_t c = 0; c < g.c; ++c)
                        for (std::size_t ky = 0; ky < g.kh; ++ky) {
                            const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * g.sh + ky) -
                                                      static_cast<std::ptrdiff_t>(g.pt);
                            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) continue;
                            for (std::size_t kx = 0; kx < g.kw; ++kx) {
                                const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * g.sw + kx) -
                                                          static_cast<std::ptrdiff_t>(g.pl);
                                if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(g.w)) continue;
                                acc += acc_t<T>(w[((f * g.c + c) * g.kh + ky) * g.kw + kx]) *
                                       xs[(c * g.h + static_cast<std::size_t>(iy)) * g.w + static_cast<std::size_t>(ix)];
                            }
                        }
                    ys[(f * g.oh + oy) * g.ow + ox] = static_cast<T>(acc);
                }
    }
}

// dx may be null (the first layer needs no input gradient).
template <class T>
void conv2d_backward(const conv_geometry& g, const T* w, const T* x, const T* dy, T* dx, T* dw, T* db,
                     std::size_t n) {
    const std::size_t K = g.kh * g.kw;
    for (std::size_t f = 0; f < g.f; ++f) {
        acc_t<T> sb = 0;
        for (std::size_t s = 0; s < n; ++s)
            for (std::size_t i = 0; i < g.oh * g.ow; ++i) sb += dy[s * g.out_size() + f * g.oh * g.ow + i];
        db[f] = static_cast<T>(db[f] + sb);
        for (std::size_t c = 0; c < g.c; ++c)
            for (std::size_t ky = 0; ky < g.kh; ++ky)
                for (std::size_t kx = 0; kx < g.kw; ++kx) {
                    acc_t<T> acc = 0;
                    for (std::size_t s = 0; s < n; ++s) {
                        const T* xs = x + s * g.in_size() + c * g.h * g.w;
                        const T* dys = dy + s * g.out_size() + f * g.oh * g.ow;
                        for (std::size_t oy = 0; oy < g.oh; ++oy) {
                            const std::ptrdiff_t iy = static_cast<std::ptrdiff_t>(oy * g.sh + ky) -
                                                      static_cast<std::ptrdiff_t>(g.pt);
                            if (iy < 0 || iy >= static_cast<std::ptrdiff_t>(g.h)) continue;
                            for (std::size_t ox = 0; ox < g.ow; ++ox) {
                                const std::ptrdiff_t ix = static_cast<std::ptrdiff_t>(ox * g.sw + kx) -
                                                          static_cast<std::ptrdiff_t>(g.pl);
                                if (ix < 0 || ix >= static_cast<std::ptrdiff_t>(g.w)) continue;
                                acc += acc_t<T>(dys[oy * g.ow + ox]) *
                                       xs[static_cast<std::size_t>(iy) * g.w + static_cast<std::size_t>(ix)];
                            }
                        }
                    }
                    T& d = dw[(f * g.c + c) * K + ky * g.kw + kx];
                    d = static_cast<T>(d + acc);
                }
    }
    if (!dx) return;
    for (std::size_t s = 0; s < n; ++s) {
        T* dxs = dx + s * g.in_size();
        const T* dys = dy + s * g.out_size();
        for (std::size_t c = 0; c < g.c; ++c)
            for (std::size_t iy = 0; iy < g.h; ++iy)
                for (std::size_t ix = 0; ix < g.w; ++ix) {
                    acc_t<T> acc = 0;
                    for (std::size_t ky = 0; ky < g.kh; ++ky) {
                        const std::size_t ty = iy + g.pt;  // padded row = oy * sh + ky
                        if (ty < ky || (ty - ky) % g.sh) continue;
                        const std::size_t oy = (ty - ky) / g.sh;
                        if (oy >= g.oh) continue;
                        for (std::size_t kx = 0; kx < g.kw; ++kx) {
                            const std::size_t tx = ix + g.pl;
                            if (tx < kx || (tx - kx) % g.sw) continue;
                            const std::size_t ox = (tx - kx) / g.sw;
                            if (ox >= g.ow) continue;
                            for (std::size_t f = 0; f < g.f; ++f)
                                acc += acc_t<T>(w[((f * g.c + c) * g.kh + ky) * g.kw + kx]) *
                                       dys[(f * g.oh + oy) * g.ow + ox];
                        }
                    }
                    dxs[(c * g.h + iy) * g.w + ix] = static_cast<T>(acc);
                }
    }
}

// Max pooling, floor mode. Ties go to the first maximum in row-major window order (PyTorch).
template <class T>
void max_pool_forward(const pool_geometry& g, const T* x, T* y, std::size_t n) {
    for (std::size_t s = 0; s < n * g.c; ++s) {
        const T* xs = x + s * g.h * g.w;
        T* ys = y + s * g.oh * g.ow;
        for (std::size_t oy = 0; oy < g.oh; ++oy)
            for (std::size_t ox = 0; ox < g.ow; ++ox) {
                T m = xs[oy * g.s * g.w + ox * g.s];
                for (std::size_t ky = 0; ky < g.k; ++ky)
                    for (std::size_t kx = 0; kx < g.k; ++kx) m = std::max(m, xs[(oy * g.s + ky) * g.w + ox * g.s + kx]);
                ys[oy * g.ow + ox] = m;
            }
    }
}

template <class T>
void max_pool_backward(const pool_geometry& g, const T* x, const T* dy, T* dx, std::size_t n) {
    std::fill(dx, dx + n * g.in_size(), T(0));
    for (std::size_t s = 0; s < n * g.c; ++s) {
        const T* xs = x + s * g.h * g.w;
        T* dxs = dx + s * g.h * g.w;
        const T* dys = dy + s * g.oh * g.ow;
        for (std::size_t oy = 0; oy < g.oh; ++oy)
            for (std::size_t ox = 0; ox < g.ow; ++ox) {
                std::size_t best = oy * g.s * g.w + ox * g.s;
                for (std::size_t ky = 0; ky < g.k; ++ky)
                    for (std::size_t kx = 0; kx < g.k; ++kx) {
                        const std::size_t i = (oy * g.s + ky) * g.w + ox * g.s + kx;
                        if (xs[i] > xs[best]) best = i;
                    }
                dxs[best] += dys[oy * g.ow + ox];
            }
    }
}

template <class T>
void dense_forward(std::size_t in, std::size_t out, const T* w, const T* b, const T* x, T* y, std::size_t n) {
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t o = 0; o < out; ++o) {
            acc_t<T> acc = b[o];
            for (std::size_t i = 0; i < in; ++i) acc += acc_t<T>(w[o * in + i]) * x[s * in + i];
            y[s * out + o] = static_cast<T>(acc);
        }
}

template <class T>
void dense_backward(std::size_t in, std::size_t out, const T* w, const T* x, const T* dy, T* dx, T* dw, T* db,
                    std::size_t n) {
    for (std::size_t o = 0; o < out; ++o) {
        acc_t<T> sb = 0;
        for (std::size_t s = 0; s < n; ++s) sb += dy[s * out + o];
        db[o] = static_cast<T>(db[o] + sb);
        for (std::size_t i = 0; i < in; ++i) {
            acc_t<T> acc = 0;
            for (std::size_t s = 0; s < n; ++s) acc += acc_t<T>(dy[s * out + o]) * x[s * in + i];
            dw[o * in + i] = static_cast<T>(dw[o * in + i] + acc);
        }
    }
    if (!dx) return;
    for (std::size_t s = 0; s < n; ++s)
        for (std::size_t i = 0; i < in; ++i) {
            acc_t<T> acc = 0;
            for (std::size_t o = 0; o < out; ++o) acc += acc_t<T>(w[o * in + i]) * dy[s * out + o];
            dx[s * in + i] = static_cast<T>(acc);
        }
}

template <class T>
void softmax_rows(const T* x, T* y, std::size_t n, std::size_t classes) {
    for (std::size_t s = 0; s < n; ++s) {
        const T* xs = x + s * classes;
        T* ys = y + s * classes;
        const T m = *std::max_element(xs, xs + classes);
        acc_t<T> sum = 0;
        for (std::size_t i = 0; i < classes; ++i) sum += std::exp(acc_t<T>(xs[i] - m));
        for (std::size_t i = 0; i < classes; ++i) ys[i] = static_cast<T>(std::exp(acc_t<T>(xs[i] - m)) / sum);
    }
}

template <class T>
T sigmoid(T z) {
    return z >= 0 ? T(1) / (T(1) + std::exp(-z)) : std::exp(z) / (T(1) + std::exp(z));
}

}  // namespace flowpic::nn::kernels::reference
