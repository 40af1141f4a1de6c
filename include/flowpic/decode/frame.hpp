#pragma once
// Frame decoding: link layer -> IPv4/IPv6 (options, extension headers, fragments) -> TCP/UDP.
// Bounds are checked against the captured length; sizes come from the IP header, so truncated
// captures (small snaplen) still give true packet sizes.

#include <cstdint>
#include <cstring>

#include "flowpic/config.hpp"
#include "flowpic/core/flow_key.hpp"
#include "flowpic/decode/link_type.hpp"

namespace flowpic::decode {

enum class status : std::uint8_t {
    ok,                 // IP packet; key and sizes are valid (ports are 0 for non-TCP/UDP or non-first fragments)
    not_ip,             // ARP, LLDP, STP, ...: not an IP packet
    truncated,          // the captured bytes end before the IP or transport header it needs
    malformed,          // an IP header that contradicts itself (version, header length)
    unsupported_link,   // link type flowpic does not decode
};

struct decoded {
    flow_key key;                     // src, dst, ports (0 when unknown), protocol
    std::uint32_t ip_length = 0;      // IPv4 total length; IPv6 payload length + 40
    std::uint32_t payload_length = 0; // transport payload bytes (IP length minus IP and TCP/UDP headers)
    bool tcp_udp = false;             // a TCP or UDP packet whose ports are known
    bool fragment = false;            // part of a fragmented IP datagram
    bool first_fragment = false;      // fragment offset 0 (the one that carries the ports)
};

namespace detail {

[[nodiscard]] FLOWPIC_ALWAYS_INLINE std::uint16_t be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// Reads ports (and the TCP header length) of the transport header at p with n captured bytes.
FLOWPIC_ALWAYS_INLINE void transport(std::uint8_t proto, const std::uint8_t* p, std::int64_t n,
                                     std::uint32_t l4_length, decoded& d) noexcept {
    if (proto != 6 && proto != 17) {
        d.payload_length = l4_length;
        return;
    }
    if (n < 4) {  // ports not captured: the packet keeps its size but joins the port-less flow
        d.payload_length = l4_length;
        return;
    }
    d.key.sport = be16(p);
    d.key.dport = be16(p + 2);
    d.tcp_udp = true;
    std::uint32_t hdr = 8;
    if (proto == 6) hdr = (n >= 13) ? static_cast<std::uint32_t>((p[12] >> 4) * 4) : 20;
    d.payload_length = l4_length > hdr ? l4_length - hdr : 0;
}

[[nodiscard]] inline status ipv4(const std::uint8_t* p, std::int64_t n, decoded& d) noexcept {
    if (n < 20) return status::truncated;
    if ((p[0] >> 4) != 4) return status::malformed;
    const std::uint32_t ihl = static_cast<std::uint32_t>(p[0] & 0x0f) * 4;
    if (ihl < 20) return status::malformed;
    const std::uint32_t total = be16(p + 2);
    d.ip_length = total;
    d.key.proto = p[9];
    d.key.src = ip_address::v4(p + 12);
    d.key.dst = ip_address::v4(p + 16);
    const std::uint16_t frag = be16(p + 6);
    const std::uint16_t offset = frag & 0x1fff;
    const bool more = (frag & 0x2000) != 0;
    d.fragment = more || offset != 0;
    d.first_fragment = d.fragment && offset == 0;
    const std::uint32_t l4_length = total > ihl ? total - ihl : 0;
    if (offset != 0) {  // only the first fragment carries ports
        d.payload_length = l4_length;
        return status::ok;
    }
    if (n < static_cast<std::int64_t>(ihl)) return status::truncated;
    transport(d.key.proto, p + ihl, n - ihl, l4_length, d);
    return status::ok;
}

[[nodiscard]] inline status ipv6(const std::uint8_t* p, std::int64_t n, decoded& d) noexcept {
    if (n < 40) return status::truncated;
    if ((p[0] >> 4) != 6) return status::malformed;
    const std::uint32_t plen = be16(p + 4);
    d.ip_length = plen + 40;
    d.key.src = ip_address::v6(p + 8);
    d.key.dst = ip_address::v6(p + 24);
    std::uint8_t next = p[6];
    const std::uint8_t first_next = next;
    std::int64_t off = 40;
    std::uint32_t remaining = plen;  // bytes after the current header, by the IP header's account
    // Walk extension headers; a non-TCP/UDP packet is keyed by its first next-header.
    for (int hops = 0; hops < 16; ++hops) {
        std::uint32_t len = 0;
        switch (next) {
            case 0: case 43: case 60: case 135: case 139: case 140:  // hop-by-hop, routing, dest opts, mobility, HIP, shim6
                if (n < off + 2) { d.key.proto = first_next; d.payload_length = remaining; return status::ok; }
                len = (static_cast<std::uint32_t>(p[off + 1]) + 1) * 8;
                break;
            case 51:  // AH: length in 4-octet units minus 2
                if (n < off + 2) { d.key.proto = first_next; d.payload_length = remaining; return status::ok; }
                len = (static_cast<std::uint32_t>(p[off + 1]) + 2) * 4;
                break;
            case 44: {  // fragment header: 8 bytes
                if (n < off + 8) { d.key.proto = first_next; d.payload_length = remaining; return status::ok; }
                const std::uint16_t fo = be16(p + off + 2);
                const std::uint16_t offset = static_cast<std::uint16_t>(fo >> 3);
                d.fragment = true;
                d.first_fragment = offset == 0;
                len = 8;
                if (offset != 0) {
                    d.key.proto = p[off];
                    d.payload_length = remaining > 8 ? remaining - 8 : 0;
                    return status::ok;
                }
                break;
            }
            default: {
                d.key.proto = next;
                if (next != 6 && next != 17) {
                    d.key.proto = first_next;
                    d.payload_length = remaining;
                    return status::ok;
                }
                transport(next, p + off, n - off, remaining, d);
                return status::ok;
            }
        }
        next = p[off];
        off += len;
        remaining = remaining > len ? remaining - len : 0;
    }
    d.key.proto = first_next;
    d.payload_length = remaining;
    return status::ok;
}

[[nodiscard]] FLOWPIC_ALWAYS_INLINE status ip_by_version(const std::uint8_t* p, std::int64_t n, decoded& d) noexcept {
    if (n < 1) return status::truncated;
    switch (p[0] >> 4) {
        case 4: return ipv4(p, n, d);
        case 6: return ipv6(p, n, d);
        default: return status::not_ip;
    }
}

[[nodiscard]] FLOWPIC_ALWAYS_INLINE status ip_by_ethertype(std::uint16_t type, const std::uint8_t* p, std::int64_t n,
                                                          decoded& d) noexcept {
    switch (type) {
        case 0x0800: return ipv4(p, n, d);
        case 0x86dd: return ipv6(p, n, d);
        default: return status::not_ip;
    }
}

}  // namespace detail

// Decodes one captured frame of link type `dlt` (captured bytes `caplen`).
[[nodiscard]] inline status decode_frame(int dlt, const std::uint8_t* data, std::uint32_t caplen, decoded& d) noexcept {
    d = decoded{};
    const std::int64_t n = caplen;
    switch (dlt) {
        case 1: {  // Ethernet, with VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8, old QinQ 0x9100/0x9200)
            if (n < 14) return status::truncated;
            std::int64_t off = 12;
            std::uint16_t type = detail::be16(data + off);
            for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200) && tags < 8; ++tags) {
                off += 4;
                if (n < off + 2) return status::truncated;
                type = detail::be16(data + off);
            }
            off += 2;
            return detail::ip_by_ethertype(type, data + off, n - off, d);
        }
        case 0: case 108: {  // loopback: AF_INET 2; AF_INET6 10 (Linux), 24, 28, 30 (BSDs)
            if (n < 4) return status::truncated;
            std::uint32_t le, be;
            le = static_cast<std::uint32_t>(data[0]) | (static_cast<std::uint32_t>(data[1]) << 8) |
                 (static_cast<std::uint32_t>(data[2]) << 16) | (static_cast<std::uint32_t>(data[3]) << 24);
            be = (static_cast<std::uint32_t>(data[0]) << 24) | (static_cast<std::uint32_t>(data[1]) << 16) |
                 (static_cast<std::uint32_t>(data[2]) << 8) | static_cast<std::uint32_t>(data[3]);
            const std::uint32_t fam = (le < 256) ? le : be;
            if (fam != 2 && fam != 10 && fam != 24 && fam != 28 && fam != 30) return status::not_ip;
            return detail::ip_by_version(data + 4, n - 4, d);
        }
        case 12: case 14: case 101:
            return detail::ip_by_version(data, n, d);
        case 228:
            return detail::ipv4(data, n, d);
        case 229:
            return detail::ipv6(data, n, d);
        case 113: {  // SLL: protocol type at 14, header 16
            if (n < 16) return status::truncated;
            return detail::ip_by_ethertype(detail::be16(data + 14), data + 16, n - 16, d);
        }
        case 276: {  // SLL2: protocol type at 0, header 20
            if (n < 20) return status::truncated;
            return detail::ip_by_ethertype(detail::be16(data), data + 20, n - 20, d);
        }
        default:
            return status::unsupported_link;
    }
}

}  // namespace flowpic::decode
