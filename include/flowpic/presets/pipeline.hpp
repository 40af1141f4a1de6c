#pragma once
// preset_pipeline<Preset, Network, Source>: a pipeline with the windows, flow grouping and
// pictures of a preset, so that a user names the preset and the network only.
//
//   using classifier = preset_pipeline<presets::mini_flowpic, presets::network_t<presets::mini_flowpic, 5>,
//                                      source::pcap_file<>>;

#include "flowpic/backend/backend.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/pipeline/decision.hpp"
#include "flowpic/pipeline/pipeline.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/preset.hpp"

namespace flowpic {

template <presets::preset Preset, class Network, class Source, backend::backend_tag Backend = backend::default_backend,
          decision::decision_policy Decision = decision::per_block>
using preset_pipeline = pipeline<Network, Source, typename Preset::flow_key, blocks::window<Preset::window>,
                                 typename Preset::picture, Backend, Decision>;

}  // namespace flowpic
