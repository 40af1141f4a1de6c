#pragma once
// What every source yields: a packet record with the key of the flow it belongs to.

#include <concepts>
#include <cstddef>
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

// A source may also hand out packets in chunks: next_chunk(out, max) returns up to `max` packets
// in out[0, n) (at least one, 0 only at the end; out[n, max) may be used as scratch) and throws
// only before handing out any, so a wrapper that stops
// at damage keeps every packet before it. pcap_file reads records natively in large blocks and
// decodes them on all threads there. read_chunk fills `max` (fewer only at the end) from any source.
template <class S>
concept chunked_source = packet_source<S> && requires(S& s, keyed_packet* out, std::size_t max) {
    { s.next_chunk(out, max) } -> std::same_as<std::size_t>;
};

// One step of a chunked read: next_chunk where the source has it, else one next().
template <packet_source S>
[[nodiscard]] std::size_t next_chunk_of(S& src, keyed_packet* out, std::size_t max) {
    if constexpr (chunked_source<S>) return src.next_chunk(out, max);
    else return max > 0 && src.next(*out) ? 1 : 0;
}

// Up to `max` packets into `out`; fewer only when the source ended, which sets `ended`.
template <packet_source S>
[[nodiscard]] std::size_t read_chunk(S& src, keyed_packet* out, std::size_t max, bool& ended) {
    std::size_t n = 0;
    while (n < max) {
        const std::size_t k = next_chunk_of(src, out + n, max - n);
        if (k == 0) {
            ended = true;
            break;
        }
        n += k;
    }
    return n;
}

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

    // counters of parts of one input (decode blocks, shards) added up
    capture_stats& operator+=(const capture_stats& o) noexcept {
        frames += o.frames;
        packets += o.packets;
        not_ip += o.not_ip;
        other_protocol += o.other_protocol;
        truncated += o.truncated;
        malformed += o.malformed;
        non_first_fragments += o.non_first_fragments;
        tunnelled += o.tunnelled;
        return *this;
    }
};

}  // namespace source
}  // namespace flowpic
