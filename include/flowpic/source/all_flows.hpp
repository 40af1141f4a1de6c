#pragma once
// source::all_flows<Source>: every flow of a source as one stream (the all_flows grouping of
// network_stats, reference.md A.3). Each packet keeps its direction within its own connection
// (the side that sent the connection's first packet is "up") unless the source already knows it;
// the key is cleared, so a flow table sees one flow.

#include <unordered_map>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::source {

template <class Source>
class all_flows {
public:
    explicit all_flows(Source& s) : src_(s) {}

    bool next(keyed_packet& kp) {
        if (!src_.next(kp)) return false;
        if (!kp.direction_known) {
            direction d = direction::forward;
            if (seen_.count(kp.key) == 0) {
                if (seen_.count(kp.key.reversed())) d = direction::reverse;
                else seen_.emplace(kp.key, true);
            }
            kp.pkt.dir = d;
        }
        kp.key = flow_key{};
        kp.direction_known = true;
        return true;
    }

private:
    Source& src_;
    std::unordered_map<flow_key, bool, flow_key_hash> seen_;
};

}  // namespace flowpic::source
