#pragma once
// Which number of bytes is "the packet size": a policy of the capture sources.

#include <cstdint>

#include "flowpic/decode/frame.hpp"

namespace flowpic::size {

// IP total length (IPv4 total length, IPv6 payload length + 40): the reference's size, also
// correct in truncated captures. The default.
struct ip_length {
    [[nodiscard]] static constexpr std::uint32_t of(const decode::decoded& d, std::uint32_t /*wire*/) noexcept {
        return d.ip_length;
    }
};

// Bytes on the wire, link-layer header included (the pcap record's original length).
struct wire_length {
    [[nodiscard]] static constexpr std::uint32_t of(const decode::decoded&, std::uint32_t wire) noexcept {
        return wire;
    }
};

// Transport payload: IP length minus the IP and TCP/UDP headers (0 for bare ACKs).
struct transport_payload {
    [[nodiscard]] static constexpr std::uint32_t of(const decode::decoded& d, std::uint32_t /*wire*/) noexcept {
        return d.payload_length;
    }
};

template <class P>
concept size_policy = requires(const decode::decoded& d) {
    { P::of(d, std::uint32_t{}) } -> std::same_as<std::uint32_t>;
};

}  // namespace flowpic::size

namespace flowpic::protocols {

// Which IP packets a capture source hands out.
struct tcp_udp {  // FlowPic's flows: TCP and UDP only (the default)
    static constexpr bool keep_all = false;
};
struct any_ip {   // every IP packet; non-TCP/UDP ones keyed by (src, dst, 0, 0, protocol)
    static constexpr bool keep_all = true;
};

}  // namespace flowpic::protocols
