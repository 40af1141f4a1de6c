#pragma once
// A source over packets the caller already holds: keyed packets, or plain packets of one flow.
// Nothing is copied; the packets must outlive the source.

#include <cstddef>
#include <span>
#include <vector>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::source {

class memory {
public:
    static constexpr bool time_ordered = false;  // whatever order the caller's packets are in

    // Hands out the keyed packets as they are.
    explicit memory(std::span<const keyed_packet> packets) noexcept : keyed_(packets) {}

    // Packets of one connection under `key`. With direction_known, a packet's dir says who sent
    // it: forward packets get `key`, reverse ones key.reversed() (the sender's 5-tuple, as a
    // capture would give), so both kinds of flow table see what they would see in a capture.
    // Without it, every packet gets `key` and the flow table decides the direction.
    memory(std::span<const packet> packets, const flow_key& key, bool direction_known = false) noexcept
        : plain_(packets), key_(key), reversed_(key.reversed()), known_(direction_known) {}

    // A temporary would dangle: keep the packets in a named object.
    explicit memory(std::vector<keyed_packet>&&) = delete;
    memory(std::vector<packet>&&, const flow_key&, bool = false) = delete;

    bool next(keyed_packet& out) noexcept {
        if (!keyed_.empty()) {
            if (pos_ >= keyed_.size()) return false;
            out = keyed_[pos_++];
            return true;
        }
        if (pos_ >= plain_.size()) return false;
        out.pkt = plain_[pos_++];
        out.direction_known = known_;
        if (known_) {
            out.key = out.pkt.dir == direction::reverse ? reversed_ : key_;
        } else {
            out.key = key_;
            out.pkt.dir = direction::forward;
        }
        return true;
    }

    void rewind() noexcept { pos_ = 0; }
    [[nodiscard]] std::size_t size() const noexcept { return keyed_.empty() ? plain_.size() : keyed_.size(); }
    [[nodiscard]] std::size_t remaining() const noexcept { return size() - pos_; }

private:
    std::span<const keyed_packet> keyed_;
    std::span<const packet> plain_;
    flow_key key_;
    flow_key reversed_;
    bool known_ = false;
    std::size_t pos_ = 0;
};

static_assert(packet_source<memory>);

}  // namespace flowpic::source
