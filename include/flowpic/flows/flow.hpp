#pragma once
// One flow as the flow table holds it: key, counters and the packets still needed.

#include <cstdint>
#include <vector>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/packet.hpp"

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
    std::uint64_t packets = 0;     // all packets seen, including those no longer buffered
    std::uint64_t bytes = 0;       // sum of packet sizes
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
    std::vector<packet> buffer;    // packets still needed by open windows (or all, when kept)
    std::uint64_t next_window = 0; // first window not yet handed out or skipped
    bool windows_done = false;     // first_only flows after their one window
    // intrusive list of live flows by last activity (idle timeout and bounds)
    std::uint32_t lru_prev = ~0u;
    std::uint32_t lru_next = ~0u;
    bool live = false;
};

}  // namespace flowpic::flows
