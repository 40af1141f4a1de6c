#pragma once
// nDPI over a capture's flows: the compiled component flowpic::ndpi (FLOWPIC_HAS_NDPI=1 comes with
// it). Packets go in as IP packets; out come the TCP and UDP flows, each with the application and
// category nDPI gives it, detected as Debian's ndpiReader detects them (the same packet budgets,
// the same give-up and guess at the end), so the two name the same application per flow.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/decode/ip_packet.hpp"

namespace flowpic::ndpi {

// One flow: both directions of a 5-tuple, oriented with its first packet's sender as src.
struct flow_result {
    flow_key key;
    std::int64_t first_ns = 0;     // time of the first packet
    std::int64_t last_ns = 0;
    std::uint64_t packets = 0;     // both directions
    std::string application;       // nDPI's "master.app" name as ndpiReader prints it: "TLS.YouTube", "DNS", "Unknown"
    std::string category;          // nDPI's category name: "Web", "Media", "VoIP", "Unspecified"
    std::uint16_t master_id = 0;   // nDPI protocol ids behind the names
    std::uint16_t app_id = 0;
};

struct classifier_options {
    std::uint32_t max_tcp_packets = 80;  // ndpiReader -T: packets of a TCP flow before it gives up
    std::uint32_t max_udp_packets = 24;  // ndpiReader -U
    bool guess = true;                   // guess undetected flows by port and address (off: ndpiReader -d)
};

class flow_classifier {
public:
    flow_classifier();
    explicit flow_classifier(const classifier_options& opt);
    ~flow_classifier();
    flow_classifier(flow_classifier&&) noexcept;
    flow_classifier& operator=(flow_classifier&&) noexcept;
    flow_classifier(const flow_classifier&) = delete;
    flow_classifier& operator=(const flow_classifier&) = delete;

    // One IP packet (IPv4 or IPv6 header first, as captured) at time_ns; false when it belongs to
    // no TCP or UDP flow (other protocols, later fragments, undecodable headers).
    bool add(std::int64_t time_ns, std::span<const std::uint8_t> ip);

    // One captured frame of link type `dlt`; its IP packet goes to add().
    bool add_frame(std::int64_t time_ns, int dlt, const std::uint8_t* data, std::uint32_t caplen) {
        const auto ip = decode::ip_packet(dlt, data, caplen);
        return !ip.empty() && add(time_ns, ip);
    }

    // Ends detection (undecided flows give up, as ndpiReader does at the end of a capture) and
    // hands out every flow in order of its first packet; the classifier is empty afterwards.
    [[nodiscard]] std::vector<flow_result> finish();

    [[nodiscard]] std::size_t flow_count() const noexcept;

    // The nDPI library's version string, e.g. "4.2.0".
    [[nodiscard]] static std::string ndpi_version();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace flowpic::ndpi
