#pragma once
// The IP packet inside a captured frame: where a layer-3 consumer (nDPI) starts reading. It walks
// the same link layers as decode_frame, so every frame flowpic decodes can be handed on whole.

#include <cstdint>
#include <span>

#include "flowpic/decode/frame.hpp"

namespace flowpic::decode {

// The captured bytes from the IP header on (to the end of the capture, trailers included, as
// libpcap-based readers hand them on); empty when the frame carries no IPv4 or IPv6 packet.
// Tunnels are not entered: the outer packet is handed on.
[[nodiscard]] inline std::span<const std::uint8_t> ip_packet(int dlt, const std::uint8_t* data,
                                                             std::uint32_t caplen) noexcept {
    const detail::network_layer l = detail::link_layer(dlt, data, caplen);
    if (l.st != status::ok || l.n <= 0) return {};
    const int v = l.p[0] >> 4;
    if (l.ip == 0 && v != 4 && v != 6) return {};
    if ((dlt == 228 || dlt == 229) && v != l.ip) return {};  // the link type names the version
    return {l.p, static_cast<std::size_t>(l.n)};
}

}  // namespace flowpic::decode
