#pragma once
// Flow-key policies: which packets the flow table groups into one flow, and each packet's
// direction within it.
//
//   flows::unidirectional   one direction of the 5-tuple (the reference)
//   flows::bidirectional    both directions of a connection; packet::dir tells them apart
//   flows::all_flows        every packet of the input in one flow (network_stats, reference.md
//                           A.3); each packet keeps its direction within its own connection
//
// A policy maps a packet to the key the table hashes (group_key) and says its direction; the
// table itself never asks which policy it runs.

#include <concepts>
#include <unordered_set>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::flows {

struct unidirectional {
    static constexpr bool keyed = true;  // a flow's key names its 5-tuple
    // The packet as the table groups it (all_flows rewrites it).
    const keyed_packet& prepare(const keyed_packet& kp) noexcept { return kp; }
    // The key the table hashes and compares.
    [[nodiscard]] static const flow_key& group_key(const flow_key& k) noexcept { return k; }
    // A new flow: its key (from its first packet) and that packet's direction.
    static direction open(const keyed_packet& kp, flow_key& key) noexcept {
        key = kp.key;
        return kp.direction_known ? kp.pkt.dir : direction::forward;
    }
    // A packet of the live flow with key `flow`.
    [[nodiscard]] static direction direction_in(const keyed_packet& kp, const flow_key&) noexcept {
        return kp.direction_known ? kp.pkt.dir : direction::forward;
    }
    // The next packet with the same raw key as the last one, whose direction was `last`.
    [[nodiscard]] static direction direction_again(const keyed_packet& kp, direction last) noexcept {
        return kp.direction_known ? kp.pkt.dir : last;
    }
};

struct bidirectional {
    static constexpr bool keyed = true;
    const keyed_packet& prepare(const keyed_packet& kp) noexcept { return kp; }
    // One orientation for both directions: the smaller endpoint first.
    [[nodiscard]] static flow_key group_key(const flow_key& k) noexcept {
        const bool swapped = (k.dst < k.src) || (k.dst == k.src && k.dport < k.sport);
        return swapped ? k.reversed() : k;
    }
    // Oriented client -> server when the source knows the client, else as the first packet's sender.
    static direction open(const keyed_packet& kp, flow_key& key) noexcept {
        if (kp.direction_known && kp.pkt.dir == direction::reverse) {
            key = kp.key.reversed();
            return direction::reverse;
        }
        key = kp.key;
        return direction::forward;
    }
    [[nodiscard]] static direction direction_in(const keyed_packet& kp, const flow_key& flow) noexcept {
        return flow == kp.key ? direction::forward : direction::reverse;
    }
    [[nodiscard]] static direction direction_again(const keyed_packet&, direction last) noexcept { return last; }
};

// Every packet in one flow with an empty key. A packet's direction is the source's when known,
// else within its own connection: the side that sent the connection's first packet is forward.
class all_flows : public unidirectional {
public:
    static constexpr bool keyed = false;  // the flow's key is empty: its blocks have no 5-tuple

    const keyed_packet& prepare(const keyed_packet& kp) {
        cur_ = kp;
        if (!kp.direction_known) {
            direction d = direction::forward;
            if (!seen_.contains(kp.key)) {
                if (seen_.contains(kp.key.reversed())) d = direction::reverse;
                else seen_.insert(kp.key);
            }
            cur_.pkt.dir = d;
        }
        cur_.key = flow_key{};
        cur_.direction_known = true;
        return cur_;
    }

private:
    keyed_packet cur_;
    std::unordered_set<flow_key, flow_key_hash> seen_;  // connections by the key of their first packet
};

template <class K>
concept key_policy = std::default_initializable<K> && requires(K& k, const keyed_packet& kp, flow_key& key,
                                                               direction d) {
    { k.prepare(kp) } -> std::same_as<const keyed_packet&>;
    { K::group_key(key) } -> std::convertible_to<flow_key>;
    { K::open(kp, key) } -> std::same_as<direction>;
    { K::direction_in(kp, key) } -> std::same_as<direction>;
    { K::direction_again(kp, d) } -> std::same_as<direction>;
    { K::keyed } -> std::convertible_to<bool>;
};

}  // namespace flowpic::flows
