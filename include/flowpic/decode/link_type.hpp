#pragma once
// Link-layer types flowpic decodes, by their DLT value as libpcap reports it.

#include <cstdint>
#include <string>

namespace flowpic::decode {

enum class link_type : int {
    null_loopback = 0,  // BSD loopback: 4-byte address family in the capturing host's byte order
    ethernet = 1,       // with any number of 802.1Q / 802.1ad / QinQ tags
    raw_ip_12 = 12,     // DLT_RAW on most platforms (LINKTYPE_RAW 101 in files)
    raw_ip_14 = 14,     // DLT_RAW on some BSDs
    raw_ip = 101,       // LINKTYPE_RAW: IPv4 or IPv6 by the version nibble
    loop = 108,         // OpenBSD loopback: family in network byte order
    linux_sll = 113,    // Linux cooked capture v1
    ipv4 = 228,
    ipv6 = 229,
    linux_sll2 = 276,   // Linux cooked capture v2
    ppp = 9,            // PPP, with or without HDLC-like framing (ff 03), protocol field compressed or not
    ppp_hdlc = 50,      // PPP in HDLC-like framing (PPP_SERIAL)
    cisco_hdlc = 104,   // Cisco HDLC: address, control, EtherType
    ieee802_11 = 105,   // 802.11 data frames with LLC/SNAP (not the protected ones)
    radiotap = 127,     // radiotap header + 802.11
    ppi = 192,          // Per-Packet Information header + the link type it names
};

[[nodiscard]] constexpr bool supported(int dlt) noexcept {
    switch (dlt) {
        case 0: case 1: case 9: case 12: case 14: case 50: case 101: case 104: case 105: case 108: case 113:
        case 127: case 192: case 228: case 229: case 276:
            return true;
        default:
            return false;
    }
}

[[nodiscard]] inline std::string link_type_name(int dlt) {
    switch (dlt) {
        case 0: return "NULL (BSD loopback)";
        case 1: return "EN10MB (Ethernet)";
        case 12: case 14: case 101: return "RAW (IPv4/IPv6)";
        case 108: return "LOOP";
        case 113: return "LINUX_SLL";
        case 228: return "IPV4";
        case 229: return "IPV6";
        case 276: return "LINUX_SLL2";
        case 9: return "PPP";
        case 50: return "PPP_HDLC";
        case 104: return "C_HDLC (Cisco HDLC)";
        case 105: return "IEEE802_11";
        case 127: return "IEEE802_11_RADIO (radiotap)";
        case 192: return "PPI";
        default: return "link type " + std::to_string(dlt);
    }
}

}  // namespace flowpic::decode
