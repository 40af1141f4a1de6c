#pragma once
// The IP packet inside a captured frame: where a layer-3 consumer (nDPI) starts reading. It walks
// the same link layers as decode_frame, so every frame flowpic decodes can be handed on whole.

#include <cstdint>
#include <span>

#include "flowpic/decode/frame.hpp"

namespace flowpic::decode {

namespace detail {
[[nodiscard]] inline std::span<const std::uint8_t> ip_by_ethertype_at(std::uint16_t type, const std::uint8_t* p,
                                                                      std::int64_t n) noexcept {
    if (n <= 0 || (type != 0x0800 && type != 0x86dd)) return {};
    return {p, static_cast<std::size_t>(n)};
}
[[nodiscard]] inline std::span<const std::uint8_t> ip_by_version_at(const std::uint8_t* p, std::int64_t n) noexcept {
    if (n <= 0 || ((p[0] >> 4) != 4 && (p[0] >> 4) != 6)) return {};
    return {p, static_cast<std::size_t>(n)};
}
}  // namespace detail

// The captured bytes from the IP header on (to the end of the capture, trailers included, as
// libpcap-based readers hand them on); empty when the frame carries no IPv4 or IPv6 packet.
[[nodiscard]] inline std::span<const std::uint8_t> ip_packet(int dlt, const std::uint8_t* data,
                                                             std::uint32_t caplen) noexcept {
    const std::int64_t n = caplen;
    switch (dlt) {
        case 1: {  // Ethernet, VLAN tags skipped as decode_frame does
            if (n < 14) return {};
            std::int64_t off = 12;
            std::uint16_t type = detail::be16(data + off);
            for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200) && tags < 8; ++tags) {
                off += 4;
                if (n < off + 2) return {};
                type = detail::be16(data + off);
            }
            off += 2;
            return detail::ip_by_ethertype_at(type, data + off, n - off);
        }
        case 0: case 108: {
            if (n < 4) return {};
            const std::uint32_t le = static_cast<std::uint32_t>(data[0]) | (static_cast<std::uint32_t>(data[1]) << 8) |
                                     (static_cast<std::uint32_t>(data[2]) << 16) |
                                     (static_cast<std::uint32_t>(data[3]) << 24);
            const std::uint32_t be = (static_cast<std::uint32_t>(data[0]) << 24) |
                                     (static_cast<std::uint32_t>(data[1]) << 16) |
                                     (static_cast<std::uint32_t>(data[2]) << 8) | static_cast<std::uint32_t>(data[3]);
            const std::uint32_t fam = (le < 256) ? le : be;
            if (fam != 2 && fam != 10 && fam != 24 && fam != 28 && fam != 30) return {};
            return detail::ip_by_version_at(data + 4, n - 4);
        }
        case 12: case 14: case 101: return detail::ip_by_version_at(data, n);
        case 228: return n > 0 && (data[0] >> 4) == 4 ? std::span<const std::uint8_t>(data, caplen) : std::span<const std::uint8_t>{};
        case 229: return n > 0 && (data[0] >> 4) == 6 ? std::span<const std::uint8_t>(data, caplen) : std::span<const std::uint8_t>{};
        case 113:
            if (n < 16) return {};
            return detail::ip_by_ethertype_at(detail::be16(data + 14), data + 16, n - 16);
        case 276:
            if (n < 20) return {};
            return detail::ip_by_ethertype_at(detail::be16(data), data + 20, n - 20);
        default: return {};
    }
}

}  // namespace flowpic::decode
