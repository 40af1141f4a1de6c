#pragma once
// The picture policies the tests run: the variants of the numpy fixtures
// (scripts/make_picture_fixtures.py, by name) and the mixes the backend tests compare.

#include <cstdint>
#include <type_traits>

#include "flowpic/picture/histogram.hpp"
#include "flowpic/presets/builtin.hpp"

namespace flowpic::test {

namespace pic = flowpic::picture;

// Inline: flowpic::test::a1 as before; `using namespace flowpic::test::histograms` for these alone.
inline namespace histograms {

// The variants of the fixture script.
using a1 = presets::shapira2019::picture;
using a1_tps60 = pic::histogram<pic::time_axis::fixed_window<60'000'000'000, pic::from::first_packet, pic::clock::authors_us>>;
using a1_log1p = pic::histogram<pic::counts::log1p<float>>;
using a1_bydir = pic::histogram<pic::channels::by_direction>;
using a2_32 = presets::mini_flowpic::picture;
using a2_64 = presets::mini_flowpic64::picture;
using a2_1500 = presets::mini_flowpic1500::picture;
using a3 = pic::histogram<pic::resolution<1500>, pic::orientation::time_rows,
                          pic::time_axis::stretched<pic::clock::epoch_ticks<1'000'000>, pic::span::kept_min_max>,
                          pic::counts::max_norm<double>, pic::channels::download_fraction>;
using a3_f32 = presets::network_stats::picture;

static_assert(std::is_same_v<a3_f32::counts_type, pic::counts::max_norm<float>>);

// Policy mixes of the backend tests: every axis, count and channel policy, odd resolutions.
using transposed_log = pic::histogram<pic::resolution<1500>, pic::orientation::time_rows, pic::counts::log1p<double>>;
using first15_64 = pic::histogram<pic::resolution<64>, pic::size_axis::scaled<>, pic::time_axis::first_seconds<15>,
                                  pic::counts::clip255<float>>;
using rect_ns = pic::histogram<pic::resolution<100, 37>, pic::size_axis::scaled<1500, pic::overflow::drop>,
                               pic::time_axis::stretched<pic::clock::epoch_ticks<1>>, pic::counts::raw<std::uint32_t>,
                               pic::channels::by_direction>;
using fixed_first = pic::histogram<pic::resolution<256>, pic::size_axis::scaled<>,
                                   pic::time_axis::fixed_window<20'000'000'000, pic::from::first_packet, pic::clock::authors_us>,
                                   pic::counts::max_norm<float>, pic::channels::download_fraction>;
using small_bytes = pic::histogram<pic::resolution<32>, pic::size_axis::scaled<>, pic::counts::raw<std::uint8_t>,
                                   pic::channels::by_direction>;
using small_log = pic::histogram<pic::resolution<48, 40>, pic::orientation::time_rows, pic::size_axis::scaled<>,
                                 pic::counts::log1p<double>, pic::channels::download_fraction>;
using small_max = pic::histogram<pic::resolution<64>, pic::size_axis::scaled<>, pic::counts::max_norm<double>,
                                 pic::channels::by_direction>;
using raw_float_fraction = pic::histogram<pic::resolution<32>, pic::size_axis::scaled<>, pic::counts::raw<float>,
                                          pic::channels::download_fraction>;

}  // namespace histograms

}  // namespace flowpic::test
