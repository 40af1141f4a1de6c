#pragma once
// preset_pipeline<Preset, Network, Source>: a pipeline with the windows, flow grouping and picture
// of a picture preset (picture/presets.hpp), so that a user names the preset and the network only.
//
//   using classifier = preset_pipeline<picture::presets::mini_flowpic<32>, nn::presets::mini_flowpic<5>,
//                                      source::pcap_file<>>;
//   classifier::source_type src(capture);   // network_stats: source::all_flows<Source> around it
//
// network_stats groups every flow of the input into one stream: its pipeline reads a
// source::all_flows<Source> through a unidirectional flow table.

#include <concepts>
#include <type_traits>

#include "flowpic/backend/backend.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/picture/presets.hpp"
#include "flowpic/pipeline/decision.hpp"
#include "flowpic/pipeline/pipeline.hpp"
#include "flowpic/source/all_flows.hpp"

namespace flowpic {

template <class Preset>
inline constexpr bool groups_all_flows = std::same_as<typename Preset::flow_key, picture::presets::all_flows>;

template <class Preset, class Network, class Source, backend::backend_tag Backend = backend::default_backend,
          decision::decision_policy Decision = decision::per_block>
using preset_pipeline =
    pipeline<std::conditional_t<groups_all_flows<Preset>, source::all_flows<Source>, Source>,
             std::conditional_t<groups_all_flows<Preset>, flows::unidirectional, typename Preset::flow_key>,
             blocks::window<Preset::window>, typename Preset::picture, Network, Backend, Decision>;

}  // namespace flowpic
