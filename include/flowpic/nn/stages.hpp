#pragma once
// How the simd kernels see a network: its layers grouped into stages at compile time. A
// convolution absorbs the element-wise layers after it (ReLU, dropout, dropout2d) and the max
// pooling after those when the pooled rows still fill whole vectors; every other layer is a
// stage of its own. The scalar oracle ignores stages and runs layer by layer.

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "flowpic/nn/kernels/fused_conv.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/shape.hpp"

namespace flowpic::nn {

template <class... T>
struct type_list {
    static constexpr std::size_t size = sizeof...(T);
};

template <std::size_t I, class List>
struct type_at;
template <std::size_t I, class... T>
struct type_at<I, type_list<T...>> {
    using type = std::tuple_element_t<I, std::tuple<T...>>;
};

// A bound layer at its place in the network: index and offset of its parameters.
template <std::size_t I, std::size_t Offset, class L>
struct slot {
    static constexpr std::size_t index = I;
    static constexpr std::size_t offset = Offset;
    using layer = L;
};

template <class Slot>
struct single_stage {
    using layer = typename Slot::layer;
    static constexpr std::size_t first = Slot::index, last = Slot::index;
    static constexpr std::size_t offset = Slot::offset;
    static constexpr shape in = layer::in, out = layer::out;
    static constexpr bool conv = false;
};

template <class ConvSlot, class PoolSlot, class... Elems>
struct conv_stage {
    using layer = typename ConvSlot::layer;
    static constexpr bool pooled = !std::is_void_v<PoolSlot>;
    static constexpr std::size_t pool_stride = [] {
        if constexpr (pooled) return PoolSlot::layer::geo.s;
        else return std::size_t{1};
    }();
    static constexpr std::size_t first = ConvSlot::index;
    static constexpr std::size_t last = [] {
        if constexpr (pooled) return PoolSlot::index;
        else return ConvSlot::index + sizeof...(Elems);
    }();
    static constexpr std::size_t offset = ConvSlot::offset;
    static constexpr shape in = layer::in;
    static constexpr shape out = [] {
        if constexpr (pooled) return PoolSlot::layer::out;
        else return layer::out;
    }();
    static constexpr bool conv = true;
    static constexpr bool relu = ((Elems::layer::kind == layer_kind::relu) || ...);
    static constexpr bool dropout = ((Elems::layer::kind == layer_kind::dropout ||
                                      Elems::layer::kind == layer_kind::dropout2d) || ...);

    static kernels::simd::fused_conv_desc desc() {
        kernels::simd::fused_conv_desc d;
        d.plan = kernels::simd::conv_plan::make(layer::geo, pool_stride);
        d.relu = ((Elems::layer::kind == layer_kind::relu) || ...);
        static_assert(sizeof...(Elems) <= 8, "nn: at most 8 element-wise layers may follow a convolution");
        (add_drop<Elems>(d), ...);
        return d;
    }

private:
    template <class E>
    static void add_drop(kernels::simd::fused_conv_desc& d) {
        if constexpr (E::layer::kind == layer_kind::dropout || E::layer::kind == layer_kind::dropout2d)
            d.drops.push_back({E::index, E::layer::threshold, static_cast<float>(1.0 / (1.0 - E::layer::rate)),
                               E::layer::per_channel});
    }
};

namespace detail {

template <class A, class B>
struct concat;
template <class... A, class... B>
struct concat<type_list<A...>, type_list<B...>> {
    using type = type_list<A..., B...>;
};

template <class L>
inline constexpr bool absorbable = L::kind == layer_kind::relu || L::kind == layer_kind::dropout ||
                                   L::kind == layer_kind::dropout2d;

// A pooling joins its convolution when windows do not overlap, a window index fits a byte, and
// the GEMM, which then computes whole vectors of pooled outputs, wastes about as few lanes as
// it would on the full rows.
template <class Conv, class Pool>
inline constexpr bool fusable_pool = [] {
    if constexpr (Pool::kind != layer_kind::max_pool2d) return false;
    else {
        using kernels::simd::computed_columns;
        constexpr std::size_t G = Pool::geo.s, ow = Conv::out.w;
        if (Pool::geo.k != G || G * G >= 255 || G > 16 || Conv::out.h < G || ow < G) return false;
        const double fused = static_cast<double>(ow / G * G) / static_cast<double>(computed_columns(ow, G));
        const double plain = static_cast<double>(ow) / static_cast<double>(computed_columns(ow, 1));
        return fused >= 0.9 * plain;
    }
}();

template <class Conv, class Elems, class Rest, class = void>
struct collect;

template <class Conv, class... E>
struct collect<Conv, type_list<E...>, type_list<>> {
    using stage = conv_stage<Conv, void, E...>;
    using rest = type_list<>;
};

template <class Conv, class... E, class R0, class... R>
struct collect<Conv, type_list<E...>, type_list<R0, R...>, std::enable_if_t<absorbable<typename R0::layer>>> {
    using next = collect<Conv, type_list<E..., R0>, type_list<R...>>;
    using stage = typename next::stage;
    using rest = typename next::rest;
};

template <class Conv, class... E, class R0, class... R>
struct collect<Conv, type_list<E...>, type_list<R0, R...>,
               std::enable_if_t<!absorbable<typename R0::layer> &&
                                fusable_pool<typename Conv::layer, typename R0::layer>>> {
    using stage = conv_stage<Conv, R0, E...>;
    using rest = type_list<R...>;
};

template <class Conv, class... E, class R0, class... R>
struct collect<Conv, type_list<E...>, type_list<R0, R...>,
               std::enable_if_t<!absorbable<typename R0::layer> &&
                                !fusable_pool<typename Conv::layer, typename R0::layer>>> {
    using stage = conv_stage<Conv, void, E...>;
    using rest = type_list<R0, R...>;
};

template <class Slots, class = void>
struct group;

template <>
struct group<type_list<>> {
    using type = type_list<>;
};

template <class S0, class... S>
struct group<type_list<S0, S...>, std::enable_if_t<S0::layer::kind == layer_kind::conv2d>> {
    using c = collect<S0, type_list<>, type_list<S...>>;
    using type = typename concat<type_list<typename c::stage>, typename group<typename c::rest>::type>::type;
};

template <class S0, class... S>
struct group<type_list<S0, S...>, std::enable_if_t<S0::layer::kind != layer_kind::conv2d>> {
    using type = typename concat<type_list<single_stage<S0>>, typename group<type_list<S...>>::type>::type;
};

}  // namespace detail

template <class Slots>
using stages_of = typename detail::group<Slots>::type;

}  // namespace flowpic::nn
