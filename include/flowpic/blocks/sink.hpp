#pragma once
// What receives a windowed table's output: blocks as windows complete, ended flows as they end.
// Spans inside a block are valid only during the call. flows::callback_sink makes one of two
// callables.

#include "flowpic/blocks/block.hpp"
#include "flowpic/flows/flow.hpp"

namespace flowpic::blocks {

template <class S>
concept sink = requires(S& s, const block& b, const flows::flow& f, flows::end_reason r) {
    s.on_block(b);
    s.on_flow_end(f, r);
};

}  // namespace flowpic::blocks
