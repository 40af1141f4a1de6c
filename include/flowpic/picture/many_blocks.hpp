#pragma once
// Many blocks at once: dense or sparse pictures of a whole range of blocks. Under backend::tbb
// the blocks are spread over oneTBB's workers (one maker, i.e. one scratch set, per worker);
// under scalar and simd they run in order on the calling thread. Every backend gives the same
// pictures: a block's picture never depends on which thread or in which order it was made.
// Under backend::cuda (picture/kernels/cuda.hpp, component flowpic::cuda) chunks of blocks go
// to the GPU.
//
//   auto stack = picture::make_sparse_stack<P::picture, backend::tbb>(workload.blocks());
//   picture::for_each_dense<P::picture, backend::tbb>(blocks, [&](std::size_t i, const auto& pic) { ... });

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include "flowpic/backend/backend.hpp"
#include "flowpic/blocks/block.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/picture/sparse_stack.hpp"

namespace flowpic::picture {

// Anything with size() and operator[](i) giving a block: a vector or span of blocks, a workload.
template <class R>
concept block_range = requires(const R& r, std::size_t i) {
    { r.size() } -> std::convertible_to<std::size_t>;
    { r[i] } -> std::convertible_to<blocks::block>;
};

namespace kernel {

template <class H, class B, class R, class F>
void for_each_dense(const R& blocks, F& f, backend::requires_backend<backend::scalar>) {
    maker<H, B> m;
    for (std::size_t i = 0; i < blocks.size(); ++i) f(i, m.dense(blocks[i]));
}

template <class H, class B, class R, class F>
void for_each_dense(const R& blocks, F& f, backend::requires_backend<backend::tbb>) {
    ::tbb::enumerable_thread_specific<maker<H, B>> makers;
    ::tbb::parallel_for(::tbb::blocked_range<std::size_t>(0, blocks.size(), 16), [&](const ::tbb::blocked_range<std::size_t>& r) {
        auto& m = makers.local();
        for (std::size_t i = r.begin(); i != r.end(); ++i) f(i, m.dense(blocks[i]));
    });
}

template <class H, class B, class R>
sparse_stack<typename H::value_type> make_sparse_stack(const R& blocks, backend::requires_backend<backend::scalar>) {
    maker<H, B> m;
    sparse_stack<typename H::value_type> out(H::channel_count, H::height, H::width,
                                             std::vector<typename H::value_type>(m.background().begin(), m.background().end()));
    std::size_t packets = 0;  // at most one cell per packet
    for (std::size_t i = 0; i < blocks.size(); ++i) packets += blocks[i].packets.size();
    out.reserve(blocks.size(), std::min(packets, blocks.size() * H::cells));
    for (std::size_t i = 0; i < blocks.size(); ++i) m.sparse(blocks[i], out);
    return out;
}

// Chunks of blocks become partial stacks in parallel, then are joined in block order.
template <class H, class B, class R>
sparse_stack<typename H::value_type> make_sparse_stack(const R& blocks, backend::requires_backend<backend::tbb>) {
    using T = typename H::value_type;
    constexpr std::size_t chunk = 64;
    const std::size_t n = blocks.size();
    const std::size_t chunks = (n + chunk - 1) / chunk;
    std::vector<sparse_stack<T>> parts(chunks);
    ::tbb::enumerable_thread_specific<maker<H, B>> makers;
    ::tbb::parallel_for(::tbb::blocked_range<std::size_t>(0, chunks, 1), [&](const ::tbb::blocked_range<std::size_t>& r) {
        auto& m = makers.local();
        for (std::size_t c = r.begin(); c != r.end(); ++c) {
            sparse_stack<T> part(H::channel_count, H::height, H::width, std::vector<T>(m.background().begin(), m.background().end()));
            for (std::size_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) m.sparse(blocks[i], part);
            parts[c] = std::move(part);
        }
    });
    maker<H, backend::scalar> bg;
    sparse_stack<T> out(H::channel_count, H::height, H::width, std::vector<T>(bg.background().begin(), bg.background().end()));
    std::size_t cells = 0;
    for (const auto& p : parts) cells += p.nnz();
    out.reserve(n, cells);
    for (const auto& p : parts) out.append(p);
    return out;
}

// backend::cuda: chunks of blocks per transfer on the GPU. cuda_batch<H> is defined by
// flowpic/picture/kernels/cuda.hpp, which needs the compiled flowpic::cuda component; these
// overloads only forward to it, so that the generic functions below accept backend::cuda.
template <class H>
struct cuda_batch;

namespace detail {
template <class T, class = void>
inline constexpr bool is_complete = false;
template <class T>
inline constexpr bool is_complete<T, std::void_t<decltype(sizeof(T))>> = true;
}  // namespace detail

template <class H, class B, class R, class F>
void for_each_dense(const R& blocks, F& f, backend::requires_backend<backend::cuda>) {
    static_assert(detail::is_complete<cuda_batch<H>>,
                  "flowpic: backend::cuda needs #include <flowpic/picture/kernels/cuda.hpp> and the flowpic::cuda "
                  "component (target_link_libraries(... flowpic::cuda))");
    cuda_batch<H>::for_each_dense(blocks, f);
}

template <class H, class B, class R>
sparse_stack<typename H::value_type> make_sparse_stack(const R& blocks, backend::requires_backend<backend::cuda>) {
    static_assert(detail::is_complete<cuda_batch<H>>,
                  "flowpic: backend::cuda needs #include <flowpic/picture/kernels/cuda.hpp> and the flowpic::cuda "
                  "component (target_link_libraries(... flowpic::cuda))");
    return cuda_batch<H>::make_sparse_stack(blocks);
}

}  // namespace kernel

// Calls f(i, picture) for every block i, the picture valid during the call only. Under
// backend::tbb the calls run in parallel and in no fixed order, so f must be thread-safe; under
// backend::cuda they run in block order on the calling thread.
template <histogram_policy H, backend::backend_tag B = backend::default_backend, block_range R, class F>
void for_each_dense(const R& blocks, F&& f) {
    kernel::for_each_dense<H, B>(blocks, f, B{});
}

// The sparse pictures of every block, in block order.
template <histogram_policy H, backend::backend_tag B = backend::default_backend, block_range R>
[[nodiscard]] sparse_stack<typename H::value_type> make_sparse_stack(const R& blocks) {
    return kernel::make_sparse_stack<H, B>(blocks, B{});
}

}  // namespace flowpic::picture
