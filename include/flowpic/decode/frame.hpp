#pragma once
// Frame decoding: link layer (Ethernet with VLAN tags and MPLS, loopback, raw IP, Linux cooked,
// PPP, Cisco HDLC, 802.11, radiotap, PPI) -> IPv4/IPv6 (options, extension headers, fragments)
// -> TCP/UDP, and under tunnel_mode::inner through GRE and GTP-U to the tunnelled packet.
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

// Tunnels (GRE, GTP-U): the outer packet is the flow (the default: a tunnel is one flow between
// its endpoints, as a VPN is), or the tunnelled packet is (each inner connection its own flow,
// sized by its own IP header). Tunnel control messages stay outer packets either way.
enum class tunnel_mode : std::uint8_t { outer, inner };

struct decoded {
    flow_key key;                     // src, dst, ports (0 when unknown), protocol
    std::uint32_t ip_length = 0;      // IPv4 total length; IPv6 payload length + 40
    std::uint32_t payload_length = 0; // transport payload bytes (IP length minus IP and TCP/UDP headers)
    bool tcp_udp = false;             // a TCP or UDP packet whose ports are known
    bool fragment = false;            // part of a fragmented IP datagram
    bool first_fragment = false;      // fragment offset 0 (the one that carries the ports)
    bool tunnelled = false;           // under tunnel_mode::inner: the packet came out of a tunnel
    const std::uint8_t* l4 = nullptr; // the transport header as captured (null when not reached)
    std::int64_t l4_captured = 0;     // its captured bytes
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
        if (proto == 47) {  // GRE, for tunnel_mode::inner
            d.l4 = p;
            d.l4_captured = n;
        }
        return;
    }
    if (n < 4) {  // ports not captured: the packet keeps its size but joins the port-less flow
        d.payload_length = l4_length;
        return;
    }
    d.l4 = p;
    d.l4_captured = n;
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
                    if (next == 47 && n > off) {  // GRE, for tunnel_mode::inner
                        d.l4 = p + off;
                        d.l4_captured = n - off;
                    }
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

[[nodiscard]] FLOWPIC_ALWAYS_INLINE std::uint16_t le16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

// Where a frame's network layer starts: `ip` 4 or 6 when the link layer says which (an
// EtherType, a PPP protocol), 0 when the version nibble decides.
struct network_layer {
    status st = status::not_ip;
    const std::uint8_t* p = nullptr;
    std::int64_t n = 0;
    std::uint8_t ip = 0;
};

[[nodiscard]] inline network_layer by_version(const std::uint8_t* p, std::int64_t n) noexcept {
    if (n < 1) return {status::truncated};
    return {status::ok, p, n, 0};
}

// An MPLS label stack (4 bytes a label, to the bottom-of-stack bit), then IPv4 or IPv6 by its
// version nibble; anything else (a pseudowire) is not IP.
[[nodiscard]] inline network_layer mpls(const std::uint8_t* p, std::int64_t n) noexcept {
    for (int labels = 0; labels < 16; ++labels) {
        if (n < 4) return {status::truncated};
        const bool bottom = (p[2] & 1) != 0;
        p += 4;
        n -= 4;
        if (bottom) {
            if (n < 1) return {status::truncated};
            const int v = p[0] >> 4;
            if (v != 4 && v != 6) return {status::not_ip};
            return {status::ok, p, n, 0};
        }
    }
    return {status::malformed};
}

[[nodiscard]] inline network_layer by_ethertype(std::uint16_t type, const std::uint8_t* p, std::int64_t n) noexcept {
    switch (type) {
        case 0x0800: return {status::ok, p, n, 4};
        case 0x86dd: return {status::ok, p, n, 6};
        case 0x8847: case 0x8848: return mpls(p, n);  // MPLS unicast, multicast
        default: return {status::not_ip};
    }
}

// Ethernet, with VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8, old QinQ 0x9100/0x9200).
[[nodiscard]] inline network_layer ethernet(const std::uint8_t* data, std::int64_t n) noexcept {
    if (n < 14) return {status::truncated};
    std::int64_t off = 12;
    std::uint16_t type = be16(data + off);
    for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100 || type == 0x9200) && tags < 8; ++tags) {
        off += 4;
        if (n < off + 2) return {status::truncated};
        type = be16(data + off);
    }
    off += 2;
    return by_ethertype(type, data + off, n - off);
}

// PPP (RFC 1661), after HDLC-like framing (ff 03) when present; a one-byte protocol when compressed.
[[nodiscard]] inline network_layer ppp(const std::uint8_t* p, std::int64_t n) noexcept {
    if (n >= 2 && p[0] == 0xff && p[1] == 0x03) {
        p += 2;
        n -= 2;
    }
    if (n < 1) return {status::truncated};
    std::uint16_t proto = p[0];
    std::int64_t len = 1;
    if ((p[0] & 1) == 0) {
        if (n < 2) return {status::truncated};
        proto = be16(p);
        len = 2;
    }
    switch (proto) {
        case 0x0021: return {status::ok, p + len, n - len, 4};
        case 0x0057: return {status::ok, p + len, n - len, 6};
        case 0x0281: case 0x0283: return mpls(p + len, n - len);
        default: return {status::not_ip};
    }
}

// 802.11 data frames: the MAC header (3 or 4 addresses, QoS, HT control), then LLC/SNAP and an
// EtherType. Protected frames and frames of other types hold no readable IP packet.
[[nodiscard]] inline network_layer ieee802_11(const std::uint8_t* p, std::int64_t n) noexcept {
    if (n < 24) return {status::truncated};
    const int type = (p[0] >> 2) & 3, subtype = p[0] >> 4;
    const std::uint8_t flags = p[1];
    if (type != 2 || (subtype & 0x4) != 0 || (flags & 0x40) != 0) return {status::not_ip};  // data, not null, not protected
    std::int64_t hdr = 24;
    if ((flags & 3) == 3) hdr += 6;  // to DS and from DS: a fourth address
    if ((subtype & 0x8) != 0) {      // QoS data
        hdr += 2;
        if ((flags & 0x80) != 0) hdr += 4;  // +HTC
    }
    if (n < hdr + 8) return {status::truncated};
    const std::uint8_t* llc = p + hdr;
    if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03) return {status::not_ip};
    return by_ethertype(be16(llc + 6), llc + 8, n - hdr - 8);
}

[[nodiscard]] inline network_layer link_layer(int dlt, const std::uint8_t* data, std::int64_t n, int depth = 0) noexcept {
    switch (dlt) {
        case 1: return ethernet(data, n);
        case 0: case 108: {  // loopback: AF_INET 2; AF_INET6 10 (Linux), 24, 28, 30 (BSDs)
            if (n < 4) return {status::truncated};
            std::uint32_t le, be;
            le = static_cast<std::uint32_t>(data[0]) | (static_cast<std::uint32_t>(data[1]) << 8) |
                 (static_cast<std::uint32_t>(data[2]) << 16) | (static_cast<std::uint32_t>(data[3]) << 24);
            be = (static_cast<std::uint32_t>(data[0]) << 24) | (static_cast<std::uint32_t>(data[1]) << 16) |
                 (static_cast<std::uint32_t>(data[2]) << 8) | static_cast<std::uint32_t>(data[3]);
            const std::uint32_t fam = (le < 256) ? le : be;
            if (fam != 2 && fam != 10 && fam != 24 && fam != 28 && fam != 30) return {status::not_ip};
            return by_version(data + 4, n - 4);
        }
        case 12: case 14: case 101: return by_version(data, n);
        case 228: return {status::ok, data, n, 4};
        case 229: return {status::ok, data, n, 6};
        case 113:  // SLL: protocol type at 14, header 16
            if (n < 16) return {status::truncated};
            return by_ethertype(be16(data + 14), data + 16, n - 16);
        case 276:  // SLL2: protocol type at 0, header 20
            if (n < 20) return {status::truncated};
            return by_ethertype(be16(data), data + 20, n - 20);
        case 9: case 50: return ppp(data, n);
        case 104:  // Cisco HDLC: address, control, EtherType
            if (n < 4) return {status::truncated};
            return by_ethertype(be16(data + 2), data + 4, n - 4);
        case 105: return ieee802_11(data, n);
        case 127: {  // radiotap: its length (little-endian) at 2
            if (n < 8) return {status::truncated};
            const std::int64_t len = le16(data + 2);
            if (len < 8) return {status::malformed};
            if (n < len) return {status::truncated};
            return ieee802_11(data + len, n - len);
        }
        case 192: {  // PPI: version, flags, length and link type (little-endian), then that link type's frame
            if (n < 8) return {status::truncated};
            const std::int64_t len = le16(data + 2);
            const int inner = static_cast<int>(static_cast<std::uint32_t>(le16(data + 4)) |
                                               (static_cast<std::uint32_t>(le16(data + 6)) << 16));
            if (len < 8) return {status::malformed};
            if (n < len) return {status::truncated};
            if (inner == 192 || depth > 0) return {status::malformed};
            network_layer l = link_layer(inner, data + len, n - len, depth + 1);
            if (l.st == status::unsupported_link) l.st = status::not_ip;  // a frame, of a kind flowpic does not read
            return l;
        }
        default: return {status::unsupported_link};
    }
}

[[nodiscard]] FLOWPIC_ALWAYS_INLINE status ip_at(const network_layer& l, decoded& d) noexcept {
    switch (l.ip) {
        case 4: return ipv4(l.p, l.n, d);
        case 6: return ipv6(l.p, l.n, d);
        default: return ip_by_version(l.p, l.n, d);
    }
}

// The network layer inside a GRE packet (RFC 2784/2890; version 1, PPTP's, carries PPP).
[[nodiscard]] inline network_layer gre(const std::uint8_t* p, std::int64_t n) noexcept {
    if (n < 4) return {status::truncated};
    const std::uint16_t flags = be16(p);
    const std::uint16_t proto = be16(p + 2);
    const int version = flags & 7;
    std::int64_t off = 4;
    if (version == 0) {
        if ((flags & 0x8000) != 0) off += 4;  // checksum and reserved
        if ((flags & 0x2000) != 0) off += 4;  // key
        if ((flags & 0x1000) != 0) off += 4;  // sequence number
    } else if (version == 1) {
        off += 4;                             // payload length, call id
        if ((flags & 0x1000) != 0) off += 4;  // sequence number
        if ((flags & 0x0080) != 0) off += 4;  // acknowledgement number
    } else {
        return {status::not_ip};
    }
    if (n < off) return {status::truncated};
    p += off;
    n -= off;
    switch (proto) {
        case 0x6558: return ethernet(p, n);  // transparent Ethernet bridging
        case 0x880b: return ppp(p, n);
        default: return by_ethertype(proto, p, n);
    }
}

// The network layer inside a GTP-U G-PDU (3GPP TS 29.281): 8 bytes, 4 more when E, S or PN is
// set, then the extension headers. Other GTP messages (echo, error indication) carry none.
[[nodiscard]] inline network_layer gtp_u(const std::uint8_t* p, std::int64_t n) noexcept {
    if (n < 8) return {status::truncated};
    if ((p[0] >> 5) != 1 || (p[0] & 0x10) == 0 || p[1] != 0xff) return {status::not_ip};
    std::int64_t off = 8;
    if ((p[0] & 0x07) != 0) {
        if (n < 12) return {status::truncated};
        std::uint8_t next = (p[0] & 0x04) != 0 ? p[11] : 0;
        off = 12;
        for (int hops = 0; next != 0 && hops < 16; ++hops) {
            if (n < off + 1) return {status::truncated};
            const std::int64_t len = static_cast<std::int64_t>(p[off]) * 4;
            if (len == 0) return {status::malformed};
            if (n < off + len) return {status::truncated};
            next = p[off + len - 1];
            off += len;
        }
        if (next != 0) return {status::malformed};
    }
    return by_version(p + off, n - off);
}

// Under tunnel_mode::inner: d becomes the tunnelled packet when d's packet is GRE or a GTP-U
// G-PDU holding one that decodes; otherwise d stays as it is.
inline void enter_tunnels(decoded& d) noexcept {
    for (int depth = 0; depth < 4 && d.l4 != nullptr; ++depth) {
        if (d.fragment) return;
        network_layer l;
        if (!d.tcp_udp) l = gre(d.l4, d.l4_captured);  // l4 is set for GRE alone among the others
        else if (d.key.proto == 17 && (d.key.dport == 2152 || d.key.sport == 2152) && d.l4_captured > 8)
            l = gtp_u(d.l4 + 8, d.l4_captured - 8);
        else return;
        if (l.st != status::ok) return;
        decoded inner;
        if (ip_at(l, inner) != status::ok) return;
        inner.tunnelled = true;
        d = inner;
    }
}

}  // namespace detail

// Decodes one captured frame of link type `dlt` (captured bytes `caplen`).
[[nodiscard]] inline status decode_frame(int dlt, const std::uint8_t* data, std::uint32_t caplen, decoded& d,
                                         tunnel_mode tunnels = tunnel_mode::outer) noexcept {
    d = decoded{};
    const detail::network_layer l = detail::link_layer(dlt, data, caplen);
    if (l.st != status::ok) return l.st;
    const status s = detail::ip_at(l, d);
    if (s == status::ok && tunnels == tunnel_mode::inner) detail::enter_tunnels(d);
    return s;
}

}  // namespace flowpic::decode
