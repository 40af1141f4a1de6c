#pragma once
// preset_pipeline<Preset, Network, Source>: a pipeline with the windows, flow grouping and picture
// of a picture preset (picture/presets.hpp), so that a user names the preset and the network only.
//
//   using classifier = preset_pipeline<picture::presets::mini_flowpic<32>, nn::presets::mini_flowpic<5>,
//                                      source::pcap_file<>>;

#include "flowpic/backend/backend.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/picture/presets.hpp"
#include "flowpic/pipeline/decision.hpp"
#include "flowpic/pipeline/pipeline.hpp"

namespace flowpic {

template <class Preset, class Network, class Source, backend::backend_tag Backend = backend::tbb,
          decision::decision_policy Decision = decision::per_block>
using preset_pipeline = pipeline<Network, Source, typename Preset::flow_key, blocks::window<Preset::window>,
                                 typename Preset::picture, Backend, Decision>;

}  // namespace flowpic
