#pragma once
// Umbrella header: every stage of flowpic.

#include "flowpic/config.hpp"
#include "flowpic/fwd.hpp"

#include "flowpic/core/error.hpp"
#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/ip_address.hpp"
#include "flowpic/core/packet.hpp"

#include "flowpic/decode/frame.hpp"
#include "flowpic/decode/link_type.hpp"

#include "flowpic/source/any_file.hpp"
#include "flowpic/source/authors_csv.hpp"
#include "flowpic/source/csv_util.hpp"
#include "flowpic/source/flow_records.hpp"
#include "flowpic/source/flowpic1.hpp"
#include "flowpic/source/keyed_packet.hpp"
#include "flowpic/source/live_capture.hpp"
#include "flowpic/source/memory.hpp"
#include "flowpic/source/network_stats_csv.hpp"
#include "flowpic/source/packet_csv.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/pcapng_file.hpp"
#include "flowpic/source/size_policy.hpp"

#include "flowpic/flows/flow.hpp"
#include "flowpic/flows/flow_csv.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/flows/sink.hpp"
#include "flowpic/flows/stage.hpp"

#include "flowpic/blocks/block.hpp"
#include "flowpic/blocks/sink.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/blocks/windower.hpp"

#include "flowpic/backend/backend.hpp"
#include "flowpic/backend/simd_arch.hpp"

#include "flowpic/picture/picture.hpp"

#include "flowpic/nn/model_file.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/nn/weights_npy.hpp"

#include "flowpic/train/augment.hpp"
#include "flowpic/train/calibration.hpp"
#include "flowpic/train/dataset.hpp"
#include "flowpic/train/metrics.hpp"
#include "flowpic/train/trainer.hpp"

#include "flowpic/pipeline/pipeline.hpp"
#include "flowpic/source/any_source.hpp"

#include "flowpic/presets.hpp"
