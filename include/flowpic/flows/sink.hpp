#pragma once
// What receives the flow table's output: ended flows (flows::flow_sink), and with a windowing
// stage also blocks (blocks::sink). callback_sink builds either from two callables.

#include "flowpic/flows/flow.hpp"

namespace flowpic::flows {

template <class S>
concept flow_sink = requires(S& s, const flow& f, end_reason r) { s.on_flow_end(f, r); };

// A sink made of two callables, on_block(block) and on_flow_end(flow, end_reason); either may be
// flows::ignore.
template <class OnBlock, class OnFlowEnd>
struct callback_sink {
    OnBlock block_fn;
    OnFlowEnd flow_fn;
    template <class Block>
    void on_block(const Block& b) {
        block_fn(b);
    }
    void on_flow_end(const flow& f, end_reason r) { flow_fn(f, r); }
};
template <class A, class B>
callback_sink(A, B) -> callback_sink<A, B>;

struct ignore {
    template <class... T>
    void operator()(const T&...) const noexcept {}
};

}  // namespace flowpic::flows
