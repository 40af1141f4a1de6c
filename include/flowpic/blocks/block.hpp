#pragma once
// A block: one time window of one flow, as a span into the flow's packets (never a copy).

#include <cstdint>
#include <span>

#include "flowpic/core/packet.hpp"

namespace flowpic::flows {
struct flow;
}

namespace flowpic::blocks {

struct block {
    const flows::flow* owner = nullptr;   // the flow it was cut from (key, counters)
    std::span<const packet> packets;      // valid until the callback that received it returns
    std::int64_t window_start_ns = 0;     // absolute start of the window
    std::int64_t window_end_ns = 0;       // absolute end of the window
    std::uint64_t index = 0;              // window number within the flow

    [[nodiscard]] std::size_t size() const noexcept { return packets.size(); }
    [[nodiscard]] bool empty() const noexcept { return packets.empty(); }
};

}  // namespace flowpic::blocks
