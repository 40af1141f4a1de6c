#pragma once
// One flow as sinks receive it: its key and counters. The table's own bookkeeping (slots, LRU
// links, a stage's per-flow state such as buffered packets) stays inside the table.

#include <cstdint>

#include "flowpic/core/flow_key.hpp"

namespace flowpic::flows {

// Why a flow was handed out.
enum class end_reason : std::uint8_t {
    end_of_input,  // the source ended
    idle_timeout,  // no packet for longer than the idle timeout
    evicted,       // a bound on live flows or buffered packets was reached (least recently active first)
};

struct flow {
    flow_key key;                  // as sent by the initiator (bidirectional: the first packet's sender)
    std::uint64_t id = 0;          // creation order, from 0
    std::uint64_t packets = 0;     // all packets seen
    std::uint64_t bytes = 0;       // sum of packet sizes
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
};

}  // namespace flowpic::flows
