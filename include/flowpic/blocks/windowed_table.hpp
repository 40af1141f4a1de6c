#pragma once
// blocks::windowed_table<Key>: the flow table with the windowing stage, packets in, blocks and
// ended flows out (a blocks::sink, e.g. flows::callback_sink{on_block, on_flow_end}).
//
//   blocks::windowed_table<flows::bidirectional> table(flows::limits{}, blocks::specs::counted15);
//   table.consume(source, sink);
//   table.stage().stats().blocks;   // windowing counters; table.stats(): the flow table's

#include "flowpic/blocks/block.hpp"
#include "flowpic/blocks/sink.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windower.hpp"
#include "flowpic/flows/flow_table.hpp"

namespace flowpic::blocks {

template <class Key = flows::unidirectional>
using windowed_table = flows::flow_table<Key, windower>;

}  // namespace flowpic::blocks
