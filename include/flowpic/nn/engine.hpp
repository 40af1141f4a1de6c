#pragma once
// The engine of the simd executor (nn/executor/simd.hpp): runs a network's stages with the simd
// kernels on chunks of samples. Packed weights are shared by all chunks; activations and scratch
// belong to the caller's workspace (one per thread). Nothing here decides about threads: the
// executor does, by its backend tag.

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <vector>

#include "flowpic/nn/kernels/dense.hpp"
#include "flowpic/nn/kernels/fused_conv.hpp"
#include "flowpic/nn/layer.hpp"
#include "flowpic/nn/stages.hpp"

namespace flowpic::nn::detail {

inline constexpr std::size_t slack = 64;  // floats past every buffer: tiles may read a little beyond

template <class Stages>
class engine;

template <class... St>
class engine<type_list<St...>> {
public:
    static constexpr std::size_t count = sizeof...(St);
    template <std::size_t I>
    using stage = std::tuple_element_t<I, std::tuple<St...>>;

    struct workspace {
        std::array<std::vector<float>, count> act;
        std::array<std::vector<std::uint8_t>, count> codes;
        std::array<const float*, count + 1> io{};  // io[i]: input of stage i; io[count]: output
        std::vector<float> input, g0, g1;
        bool keep = false;
        kernels::simd::fused_scratch fs;
        kernels::simd::dense_scratch ds;
    };

    void prepare(const float* params) {
        prepare_all(params, std::make_index_sequence<count>{});
    }

    // Forward of stages [0, upto) on n samples; returns the output of stage upto - 1.
    // keep: also what backward needs (pooling winners).
    const float* forward(const float* params, const float* x, std::size_t n, const run_context& ctx, workspace& ws,
                         std::size_t upto = count, bool keep = false) const {
        ws.io[0] = stage_input(x, n, ws);
        ws.keep = keep;
        forward_from(params, n, ctx, ws, upto, std::make_index_sequence<count>{});
        return ws.io[upto];
    }

    // Forward of stages [first, upto) on n samples whose input to stage `first` is x (the sparse
    // executor computes the stages before it); returns the output of stage upto - 1.
    const float* forward_from(std::size_t first, const float* params, const float* x, std::size_t n,
                              const run_context& ctx, workspace& ws, std::size_t upto = count, bool keep = false) const {
        ws.io[first] = x;
        ws.keep = keep;
        forward_range(params, n, ctx, ws, first, upto, std::make_index_sequence<count>{});
        return ws.io[upto];
    }

    // Backward from the output gradient dy of stage `last` down to stage `first`; parameter
    // gradients accumulate into dparams. Uses the activations of the preceding forward. Returns
    // the gradient of stage first's input (first > 0), or null.
    const float* backward(const float* params, std::size_t n, const float* dy, std::size_t last, float* dparams,
                          const run_context& ctx, workspace& ws, std::size_t first = 0) const {
        return backward_from(params, n, dy, last, first, dparams, ctx, ws, nullptr, std::make_index_sequence<count>{});
    }

    // The same down to stage `first` (a convolution), which computes only its bias gradient: the
    // gradient of its output before ReLU, dropout and pooling goes to dz instead, dz_floats<first>()
    // per sample ([conv row][f][column], plan_of<first>()'s layout), for the caller to compute its
    // weight and input gradients.
    void backward_to_output_grad(const float* params, std::size_t n, const float* dy, std::size_t last,
                                 float* dparams, const run_context& ctx, workspace& ws, std::size_t first,
                                 float* dz) const {
        backward_from(params, n, dy, last, first, dparams, ctx, ws, dz, std::make_index_sequence<count>{});
    }
    template <std::size_t I>
    [[nodiscard]] const auto& plan_of() const noexcept {
        return convs_[I].desc.plan;
    }
    template <std::size_t I>
    [[nodiscard]] std::size_t dz_floats() const noexcept {
        return convs_[I].desc.plan.rows * convs_[I].desc.plan.out_row();
    }

    // Forward of one conv stage on rows [r0, r1) of sample s only (row-parallel inference).
    template <std::size_t I>
    void conv_rows(const float* params, const float* x, float* y, std::uint8_t* codes, std::size_t r0, std::size_t r1,
                   const run_context& ctx, std::size_t s, kernels::simd::fused_scratch& fs) const {
        using S = stage<I>;
        kernels::simd::fused_forward(convs_[I].desc, convs_[I].fwd.data(), params + S::offset + S::layer::weight_count,
                                     x + s * S::in.size(), y + s * S::out.size(),
                                     S::pooled && codes ? codes + s * S::out.size() : nullptr, r0, r1, ctx, s, fs);
    }
    template <std::size_t I>
    void forward_stage(const float* params, std::size_t n, const run_context& ctx, workspace& ws) const {
        forward_one<I>(params, n, ctx, ws);
    }
    template <std::size_t I>
    [[nodiscard]] std::size_t conv_out_rows() const {
        return convs_[I].desc.out_h();
    }

    template <class V>
    static auto* sized(V& v, std::size_t n) {
        if (v.size() < n) v.resize(n);
        return v.data();
    }

private:
    struct conv_pack {
        kernels::simd::fused_conv_desc desc;
        std::vector<float> fwd, bwd;
    };
    struct dense_pack {
        kernels::simd::dense_plan plan;
        kernels::simd::dense_packed w;
    };
    std::array<conv_pack, count> convs_;
    std::array<dense_pack, count> denses_;

    static const float* stage_input(const float* x, std::size_t n, workspace& ws) {
        if constexpr (stage<0>::conv) {
            return x;  // the conv kernels copy their rows; nothing reads past the input
        } else {
            float* in = sized(ws.input, n * stage<0>::in.size() + slack);
            std::copy(x, x + n * stage<0>::in.size(), in);
            return in;
        }
    }

    template <std::size_t... I>
    void prepare_all(const float* params, std::index_sequence<I...>) {
        (prepare_one<I>(params), ...);
    }
    template <std::size_t I>
    void prepare_one(const float* params) {
        using S = stage<I>;
        if constexpr (S::conv) {
            auto& c = convs_[I];
            c.desc = S::desc();
            c.fwd.resize(S::layer::geo.weight_size() + slack);
            c.bwd.resize(S::layer::geo.weight_size() + slack);
            kernels::simd::pack_forward(c.desc.plan, params + S::offset, c.fwd.data());
            kernels::simd::pack_transposed(c.desc.plan, params + S::offset, c.bwd.data());
        } else if constexpr (S::layer::kind == layer_kind::dense) {
            auto& d = denses_[I];
            d.plan = kernels::simd::dense_plan::make(S::layer::inputs, S::layer::units);
            d.w.pack(d.plan, params + S::offset);
        }
    }

    template <std::size_t... I>
    void forward_from(const float* params, std::size_t n, const run_context& ctx, workspace& ws, std::size_t upto,
                      std::index_sequence<I...>) const {
        ((I < upto ? forward_one<I>(params, n, ctx, ws) : void()), ...);
    }

    template <std::size_t I>
    void forward_one(const float* params, std::size_t n, const run_context& ctx, workspace& ws) const {
        using S = stage<I>;
        using L = typename S::layer;
        const float* x = ws.io[I];
        if constexpr (L::kind == layer_kind::flatten) {
            ws.io[I + 1] = x;
            return;
        } else {
            float* y = sized(ws.act[I], n * S::out.size() + slack);
            ws.io[I + 1] = y;
            if constexpr (S::conv) {
                std::uint8_t* codes = S::pooled && ws.keep ? sized(ws.codes[I], n * S::out.size()) : nullptr;
                for (std::size_t s = 0; s < n; ++s)
                    kernels::simd::fused_forward(convs_[I].desc, convs_[I].fwd.data(),
                                                 params + S::offset + L::weight_count, x + s * S::in.size(),
                                                 y + s * S::out.size(), codes ? codes + s * S::out.size() : nullptr, 0,
                                                 convs_[I].desc.out_h(), ctx, s, ws.fs);
            } else if constexpr (L::kind == layer_kind::dense) {
                kernels::simd::dense_forward(denses_[I].plan, denses_[I].w, params + S::offset + L::weight_count, x, y,
                                             n, ws.ds);
            } else {
                run_context c = ctx;
                c.layer = S::first;
                L::template forward<float>(params + S::offset, x, y, n, c);
            }
        }
    }

    template <std::size_t... I>
    void forward_range(const float* params, std::size_t n, const run_context& ctx, workspace& ws, std::size_t first,
                       std::size_t upto, std::index_sequence<I...>) const {
        ((I >= first && I < upto ? forward_one<I>(params, n, ctx, ws) : void()), ...);
    }

    template <std::size_t... I>
    const float* backward_from(const float* params, std::size_t n, const float* dy, std::size_t last,
                               std::size_t first, float* dparams, const run_context& ctx, workspace& ws, float* dz,
                               std::index_sequence<I...>) const {
        const float* g = dy;
        bool in_g0 = false;
        // reverse order: stage count - 1 - k for k = 0 .. count - 1
        ((count - 1 - I <= last && count - 1 - I >= first
              ? backward_one<count - 1 - I>(params, n, g, in_g0, dparams, ctx, ws,
                                            count - 1 - I == first ? dz : nullptr)
              : void()),
         ...);
        return first > 0 && !dz ? g : nullptr;
    }

    template <std::size_t I>
    void backward_one(const float* params, std::size_t n, const float*& dy, bool& in_g0, float* dparams,
                      const run_context& ctx, workspace& ws, float* dz) const {
        using S = stage<I>;
        using L = typename S::layer;
        if constexpr (L::kind == layer_kind::flatten) {
            return;  // same data, same gradient
        } else {
            const float* x = ws.io[I];
            const float* y = ws.io[I + 1];
            float* dx = nullptr;
            if constexpr (I > 0) {
                if (!dz) {
                    auto& buf = in_g0 ? ws.g1 : ws.g0;
                    dx = sized(buf, n * S::in.size() + slack);
                }
            }
            if constexpr (S::conv) {
                const std::size_t per = dz_floats<I>();
                for (std::size_t s = 0; s < n; ++s)
                    kernels::simd::fused_backward(
                        convs_[I].desc, convs_[I].bwd.data(), x + s * S::in.size(), y + s * S::out.size(),
                        S::pooled ? ws.codes[I].data() + s * S::out.size() : nullptr, dy + s * S::out.size(),
                        dx ? dx + s * S::in.size() : nullptr, dparams + S::offset, dparams + S::offset + L::weight_count,
                        ctx, s, ws.fs, dz ? dz + s * per : nullptr);
            } else if constexpr (L::kind == layer_kind::dense) {
                kernels::simd::dense_backward(denses_[I].plan, denses_[I].w, x, dy, dx, dparams + S::offset,
                                              dparams + S::offset + L::weight_count, n, ws.ds);
            } else {
                run_context c = ctx;
                c.layer = S::first;
                L::template backward<float>(params + S::offset, x, y, dy, dx, dparams + S::offset, n, c);
            }
            if constexpr (I > 0) {
                dy = dx;
                in_g0 = !in_g0;
            }
        }
    }
};

}  // namespace flowpic::nn::detail
