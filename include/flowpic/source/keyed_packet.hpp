#pragma once
// What every source yields: a packet record with the key of the flow it belongs to.

#include <concepts>
#include <cstdint>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/packet.hpp"

namespace flowpic {

struct keyed_packet {
    flow_key key;
    packet pkt;
    // True when the source itself knows which side is the client (sessions of CSV formats):
    // pkt.dir then holds that direction, and a bidirectional flow is oriented client -> server.
    bool direction_known = false;
};

namespace source {

// A source hands out packets one at a time: next() fills `out` and returns false at the end.
// Errors in the input throw flowpic::format_error naming the file and offset or line.
template <class S>
concept packet_source = requires(S& s, keyed_packet& out) {
    { s.next(out) } -> std::same_as<bool>;
};

// Counters every capture source keeps; non-IP and undecodable frames are counted, not fatal.
struct capture_stats {
    std::uint64_t frames = 0;        // records read from the input
    std::uint64_t packets = 0;       // handed out
    std::uint64_t not_ip = 0;        // ARP, LLDP, ...
    std::uint64_t other_protocol = 0;// IP but not TCP/UDP (when only TCP/UDP is kept)
    std::uint64_t truncated = 0;     // captured bytes end before the headers needed
    std::uint64_t malformed = 0;     // contradictory IP headers
    std::uint64_t non_first_fragments = 0;
    std::uint64_t tunnelled = 0;     // handed out from inside a GRE or GTP-U tunnel (tunnel_mode::inner)
};

}  // namespace source
}  // namespace flowpic
