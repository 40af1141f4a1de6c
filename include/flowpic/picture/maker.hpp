#pragma once
// picture::maker<Histogram, Backend>: turns blocks into pictures, dense or sparse, reusing its
// scratch memory from block to block (one maker per thread).
//
//   picture::maker<presets::shapira2019::picture> m;      // A.1, backend::default_backend
//   flows::callback_sink out{[&](const blocks::block& b) {
//       const auto& pic = m.dense(b);          // 1 x 1500 x 1500 uint16, valid until the next call
//       auto sp = m.sparse(b);                 // sorted non-zero cells; sp.densify() == pic
//   }, flows::ignore{}};
//
// The backend picks the kernels (backend/backend.hpp): scalar is the oracle, simd vectorises the
// time formula; tbb equals simd for one block and parallelises many (picture/many_blocks.hpp).

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "flowpic/backend/backend.hpp"
#include "flowpic/blocks/block.hpp"
#include "flowpic/picture/dense_picture.hpp"
#include "flowpic/picture/histogram.hpp"
#include "flowpic/picture/kernels/scalar.hpp"
#include "flowpic/picture/kernels/simd.hpp"
#include "flowpic/picture/size_axis.hpp"
#include "flowpic/picture/sparse_picture.hpp"
#include "flowpic/picture/sparse_stack.hpp"
#include "flowpic/picture/time_axis.hpp"

namespace flowpic::picture {

template <histogram_policy H = histogram<>, backend::backend_tag Backend = backend::default_backend>
class maker {
public:
    using histogram_type = H;
    using backend_type = Backend;
    using value_type = typename H::value_type;
    static constexpr std::size_t channels = H::channel_count;
    static constexpr std::size_t height = H::height;
    static constexpr std::size_t width = H::width;
    static constexpr std::size_t plane = H::cells;

    maker() : lut_(size_lut<typename H::size_axis_type>(H::size_bins)), lut_f64_(lut_.begin(), lut_.end()) {
        for (std::size_t c = 0; c < channels; ++c) background_[c] = H::channels_type::template background<value_type>(c);
    }

    // The block's dense picture in the maker's own buffer, valid until the next call of dense():
    // only the cells the previous block touched are reset, not the whole picture.
    const dense_picture<value_type>& dense(const blocks::block& b) {
        bin(b);
        if (buffer_.data.empty()) {
            buffer_ = blank();
        } else if (prev_cells_.size() * 8 >= plane) {
            fill_background(buffer_);
        } else {
            for (std::uint32_t c : prev_cells_)
                for (std::size_t ch = 0; ch < channels; ++ch) buffer_.data[ch * plane + c] = background_[ch];
        }
        scatter(buffer_.data.data());
        prev_cells_.assign(runs_.cells.begin(), runs_.cells.begin() + static_cast<std::ptrdiff_t>(runs_.count));
        return buffer_;
    }

    // The block's dense picture written into `out` (resized and fully overwritten).
    void dense(const blocks::block& b, dense_picture<value_type>& out) {
        bin(b);
        if (out.channels != channels || out.height != height || out.width != width || out.data.size() != channels * plane) {
            out = blank();
        } else {
            fill_background(out);
        }
        scatter(out.data.data());
    }

    // The block's sparse picture: cells sorted by flat index, one value per channel.
    void sparse(const blocks::block& b, sparse_picture<value_type>& out) {
        bin(b);
        out.channels = channels;
        out.height = height;
        out.width = width;
        out.background.assign(background_, background_ + channels);
        out.cells.assign(runs_.cells.begin(), runs_.cells.begin() + static_cast<std::ptrdiff_t>(runs_.count));
        out.values.resize(runs_.size() * channels);
        write_values(out.values.data());
    }
    [[nodiscard]] sparse_picture<value_type> sparse(const blocks::block& b) {
        sparse_picture<value_type> p;
        sparse(b, p);
        return p;
    }
    // Appends the block's sparse picture to a stack.
    void sparse(const blocks::block& b, sparse_stack<value_type>& out) {
        bin(b);
        values_.resize(runs_.size() * channels);
        write_values(values_.data());
        out.push_back(sparse_view<value_type>{channels, height, width, last_cells(), values_,
                                              std::span<const value_type>(background_, channels)});
    }

    // A picture of the background only (what an empty block gives).
    [[nodiscard]] dense_picture<value_type> blank() const {
        dense_picture<value_type> d(channels, height, width);
        fill_background(d);
        return d;
    }
    [[nodiscard]] std::span<const value_type> background() const noexcept { return {background_, channels}; }

    // Non-zero cells of the last block (for callers that keep their own dense buffers).
    [[nodiscard]] std::span<const std::uint32_t> last_cells() const noexcept { return {runs_.cells.data(), runs_.count}; }

    // Which step-3 path a block of n packets takes (exposed for tests that must cover both).
    enum class path { grid, sort, automatic };
    void force_path(path p) noexcept { path_ = p; }

private:
    static constexpr bool dir = H::channels_type::needs_direction;
    static constexpr std::size_t key_limit = plane * (dir ? 2 : 1);
    static constexpr unsigned key_bits = static_cast<unsigned>(std::bit_width(key_limit - 1));
    static constexpr std::size_t copies = plane <= 16384 ? 4 : 1;  // scratch grids of the grid path

    void fill_background(dense_picture<value_type>& d) const {
        for (std::size_t c = 0; c < channels; ++c)
            std::fill_n(d.data.begin() + static_cast<std::ptrdiff_t>(c * plane), plane, background_[c]);
    }

    // Steps 1-3 for one block: fills runs_.
    void bin(const blocks::block& b) {
        using S = typename H::size_axis_type;
        const std::size_t n = b.packets.size();
        const std::int32_t* lut = lut_.data();
        const time_params tp = prepare_time<typename H::time_axis_type>(
            b, H::time_bins, [lut](std::uint32_t s) { return lut[size_lut_index<S>(s)] >= 0; });
        cells_.resize(n);
        if (n) kernel::bin_cells<H>(b.packets.data(), n, tp, kernel::size_table{lut, lut_f64_.data()}, cells_.data(), Backend{});
        const bool grid = path_ == path::grid || (path_ == path::automatic && (plane <= 16384 || n * 16 >= plane));
        if (grid) {
            if (grid_total_.empty()) {
                grid_total_.assign(copies * (plane + 1), 0);
                if constexpr (dir) grid_down_.assign(copies * (plane + 1), 0);
                touched_.assign(kernel::touched_bytes(plane), 0);
            }
            kernel::count_grid<H, copies>(b.packets.data(), cells_.data(), n, grid_total_.data(), grid_down_.data(),
                                          touched_.data());
            kernel::runs_from_grid<dir, copies>(grid_total_.data(), grid_down_.data(), touched_.data(), plane, runs_);
        } else {
            keys_.resize(n);
            const std::size_t m = kernel::make_keys<H>(b.packets.data(), cells_.data(), n, keys_.data());
            tmp_.resize(m);
            std::uint32_t* keys = keys_.data();
            std::uint32_t* tmp = tmp_.data();
            if (!H::time_in_rows && m > 64 && time_sorted(b)) {
                // time bins never decrease along the block, so within a row the keys come sorted
                kernel::bucket_sort(keys, tmp, m, static_cast<std::uint32_t>(H::width * (dir ? 2 : 1)),
                                    static_cast<std::uint32_t>(H::height), radix_counts_);
            } else {
                kernel::radix_sort(keys, tmp, m, key_bits, radix_counts_);
            }
            kernel::runs_from_sorted<dir>(keys, m, runs_);
        }
    }

    [[nodiscard]] static bool time_sorted(const blocks::block& b) noexcept {
        const packet* p = b.packets.data();
        bool sorted = true;
        // GCC 12 warns (-Warray-bounds) on p[i] of a one-packet block once this is inlined, although the
        // loop then runs no iteration.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
        for (std::size_t i = 1; i < b.packets.size(); ++i) sorted &= p[i - 1].time_ns <= p[i].time_ns;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
        return sorted;
    }

    // Step 4 into a values array (cell-major, channels per cell).
    void write_values(value_type* out) const {
        using Ch = typename H::channels_type;
        using Co = typename H::counts_type;
        const std::uint32_t mx = largest();
        const std::size_t k = runs_.size();
        for (std::size_t i = 0; i < k; ++i)
            Ch::template values<Co>(runs_.total[i], dir ? runs_.down[i] : 0u, mx, out + i * channels);
    }

    // Step 4 straight into a dense buffer that holds the background.
    void scatter(value_type* dense) const {
        using Ch = typename H::channels_type;
        using Co = typename H::counts_type;
        const std::uint32_t mx = largest();
        const std::size_t k = runs_.size();
        value_type v[channels];
        for (std::size_t i = 0; i < k; ++i) {
            Ch::template values<Co>(runs_.total[i], dir ? runs_.down[i] : 0u, mx, v);
            const std::uint32_t c = runs_.cells[i];
            for (std::size_t ch = 0; ch < channels; ++ch) dense[ch * plane + c] = v[ch];
        }
    }

    [[nodiscard]] std::uint32_t largest() const noexcept {
        if constexpr (!H::counts_type::needs_max) {
            return 0;
        } else {
            std::uint32_t mx = 0;
            for (std::size_t i = 0; i < runs_.size(); ++i)
                mx = std::max(mx, H::channels_type::largest(runs_.total[i], dir ? runs_.down[i] : 0u));
            return mx;
        }
    }

    std::vector<std::int32_t> lut_;
    std::vector<double> lut_f64_;
    value_type background_[channels]{};
    std::vector<std::uint32_t> cells_;
    std::vector<std::uint32_t> keys_;
    std::vector<std::uint32_t> tmp_;
    std::vector<std::uint32_t> radix_counts_;
    std::vector<std::uint32_t> grid_total_;
    std::vector<std::uint32_t> grid_down_;
    std::vector<std::uint8_t> touched_;
    kernel::cell_runs runs_;
    std::vector<value_type> values_;
    dense_picture<value_type> buffer_;
    std::vector<std::uint32_t> prev_cells_;
    path path_ = path::automatic;
};

}  // namespace flowpic::picture
