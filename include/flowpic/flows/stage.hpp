#pragma once
// A per-flow stage: work the flow table runs on every flow's packets, with its state stored in
// the table's entry of the flow (no second lookup per packet). blocks::windower is one;
// flows::no_stage, the default, stores nothing, so a bare table only groups and counts.
//
//   S::state                               per-flow state, reused across flows
//   s.open(state, flow)                    a new flow (its first packet follows)
//   s.add(state, flow, packet, out)        a packet, before the flow's counters include it
//   s.close(state, flow, out)              the flow ends, before out.on_flow_end; frees state
//   s.close(state, flow, end_reason, out)  instead, where the stage has it (the windower counts
//                                          what an eviction cuts short)
//   s.held()                               packets the stage holds (the table's max_packets bound)

#include <concepts>
#include <cstddef>

#include "flowpic/core/packet.hpp"
#include "flowpic/flows/flow.hpp"

namespace flowpic::flows {

struct no_stage {
    struct state {};
    void open(state&, const flow&) noexcept {}
    template <class Out>
    void add(state&, const flow&, const packet&, Out&) noexcept {}
    template <class Out>
    void close(state&, const flow&, Out&) noexcept {}
    [[nodiscard]] std::size_t held() const noexcept { return 0; }
};

template <class S>
concept flow_stage = std::move_constructible<S> && requires(S& s, const S& cs, typename S::state& st, const flow& f) {
    s.open(st, f);
    { cs.held() } -> std::convertible_to<std::size_t>;
};

}  // namespace flowpic::flows
