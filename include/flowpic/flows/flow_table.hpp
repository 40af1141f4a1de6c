#pragma once
// The flow table: groups packets into flows by a key policy (flows/key_policy.hpp) in bounded
// memory, and hands ended flows to a sink. A per-flow stage (flows/stage.hpp) runs inside it on
// each flow's packets: blocks::windower cuts windows (blocks::windowed_table); the default,
// flows::no_stage, only counts.
//
//   flows::flow_table<flows::bidirectional> table(flows::limits{blocks::seconds(30)});
//   table.consume(source, sink);   // sink.on_flow_end(const flows::flow&, flows::end_reason)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "flowpic/config.hpp"
#include "flowpic/flows/flow.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/flows/sink.hpp"
#include "flowpic/flows/stage.hpp"
#include "flowpic/fwd.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::flows {

// Bounds on what the table holds. When a bound is reached, the least recently active flows end
// early (end_reason::evicted): their stage finishes them as at a normal end and the flow is
// reported; a later packet with the same key starts a new flow.
struct limits {
    std::int64_t idle_timeout_ns = 0;  // 0: none (the reference)
    std::size_t max_flows = 0;         // live flows; 0: unbounded
    std::size_t max_packets = 0;       // packets the stage holds (e.g. for open windows); 0: unbounded
};

struct table_stats {
    std::uint64_t packets = 0;
    std::uint64_t flows = 0;           // flows created
    std::uint64_t idle_ended = 0;
    std::uint64_t evicted = 0;
    std::uint64_t evicted_max_flows = 0;    // of evicted: to stay within limits::max_flows
    std::uint64_t evicted_max_packets = 0;  // of evicted: to stay within limits::max_packets
    std::uint64_t backwards = 0;  // packets earlier than their flow's previous packet (docs/formats.md)
    std::size_t peak_live_flows = 0;

    // counters of several tables (shards) added up; peak_live_flows too, so the sum bounds the peak
    table_stats& operator+=(const table_stats& o) noexcept {
        packets += o.packets;
        flows += o.flows;
        idle_ended += o.idle_ended;
        evicted += o.evicted;
        evicted_max_flows += o.evicted_max_flows;
        evicted_max_packets += o.evicted_max_packets;
        backwards += o.backwards;
        peak_live_flows += o.peak_live_flows;
        return *this;
    }
};

template <class Key, class Stage>
class flow_table {
    static_assert(key_policy<Key>, "flowpic: the flow key policy must be flows::unidirectional, flows::bidirectional, "
                                   "flows::all_flows or a type with their members (flows/key_policy.hpp)");
    static_assert(flow_stage<Stage>, "flowpic: the flow table's stage must be flows::no_stage, blocks::windower or a "
                                     "type with their members (flows/stage.hpp)");

public:
    using key_policy_type = Key;
    using stage_type = Stage;

    explicit flow_table(limits lim = {}, Stage stage = {}) : lim_(lim), stage_(std::move(stage)) {
        track_lru_ = lim_.idle_timeout_ns > 0 || lim_.max_flows > 0 || lim_.max_packets > 0;
        slots_.assign(1024, slot{});
    }

    // Adds one packet; what it completes and flows that end are handed to `out`.
    template <flow_sink Out>
    void add(const keyed_packet& in, Out& out) {
        ++stats_.packets;
        const keyed_packet& kp = key_.prepare(in);
        const std::int64_t t = kp.pkt.time_ns;
        if (track_lru_ && lim_.idle_timeout_ns > 0) expire_idle(t, out);

        direction dir = direction::forward;
        const std::uint32_t fi = find_or_create(kp, dir, out);
        entry& e = entries_[fi];
        packet p = kp.pkt;
        p.dir = dir;
        stage_.add(e.state, e.rec, p, out);

        ++e.rec.packets;
        e.rec.bytes += kp.pkt.size;
        // time going backwards within a flow is counted; first and last stay the extremes
        if (FLOWPIC_UNLIKELY(t < e.rec.last_ns)) {
            ++stats_.backwards;
            if (t < e.rec.first_ns) e.rec.first_ns = t;
        }
        if (t > e.rec.last_ns) e.rec.last_ns = t;
        if (track_lru_) {
            touch(fi);
            if (lim_.max_packets > 0) {
                while (stage_.held() > lim_.max_packets && lru_head_ != npos32) {
                    ++stats_.evicted_max_packets;
                    end_flow(lru_head_, end_reason::evicted, out);
                }
            }
        }
    }

    // Adds every packet of a source, then ends all flows. A source that reads in chunks
    // (source::chunked_source: pcap_file decodes them on all threads) is read 4096 packets at a time.
    template <class Source, flow_sink Out>
        requires source::packet_source<Source>
    void consume(Source& src, Out& out) {
        if constexpr (source::chunked_source<Source>) {
            std::vector<keyed_packet> chunk(4096);
            for (bool ended = false; !ended;) {
                const std::size_t n = source::read_chunk(src, chunk.data(), chunk.size(), ended);
                for (std::size_t i = 0; i < n; ++i) add(chunk[i], out);
            }
        } else {
            keyed_packet kp;
            while (src.next(kp)) add(kp, out);
        }
        finish(out);
    }

    // Ends every live flow in creation order.
    template <flow_sink Out>
    void finish(Out& out) {
        std::vector<std::uint32_t> live;
        live.reserve(live_);
        for (std::uint32_t i = 0; i < entries_.size(); ++i)
            if (entries_[i].live) live.push_back(i);
        std::sort(live.begin(), live.end(), [&](auto a, auto b) { return entries_[a].rec.id < entries_[b].rec.id; });
        for (auto i : live) end_flow(i, end_reason::end_of_input, out);
    }

    [[nodiscard]] std::size_t live_flows() const noexcept { return live_; }
    // Packets the stage holds now (the max_packets bound).
    [[nodiscard]] std::size_t buffered_packets() const noexcept { return stage_.held(); }
    [[nodiscard]] const table_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] const limits& bounds() const noexcept { return lim_; }
    [[nodiscard]] const Stage& stage() const noexcept { return stage_; }

private:
    static constexpr std::uint32_t npos32 = ~0u;
    struct slot {
        std::uint32_t index = npos32;  // into entries_
        std::uint32_t tag = 0;         // high bits of the hash
    };
    struct entry {
        flow rec;                      // what sinks see
        typename Stage::state state;
        // intrusive list of live flows by last activity (idle timeout and bounds)
        std::uint32_t lru_prev = npos32;
        std::uint32_t lru_next = npos32;
        bool live = false;
    };

    template <class Out>
    std::uint32_t find_or_create(const keyed_packet& kp, direction& dir, Out& out) {
        // consecutive packets mostly belong to one flow: skip hashing for them
        if (cached_ != npos32 && kp.key == cached_key_) {
            dir = Key::direction_again(kp, cached_dir_);
            return cached_;
        }
        const std::uint32_t fi = lookup_or_create(kp, dir, out);
        cached_ = fi;
        cached_key_ = kp.key;
        cached_dir_ = dir;
        return fi;
    }

    template <class Out>
    std::uint32_t lookup_or_create(const keyed_packet& kp, direction& dir, Out& out) {
        const auto& ck = Key::group_key(kp.key);
        const std::uint64_t h = hash(ck);
        const std::uint32_t tag = static_cast<std::uint32_t>(h >> 32);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
            const slot& s = slots_[i];
            if (s.index == npos32) break;
            if (s.tag == tag) {
                const flow& f = entries_[s.index].rec;
                if (Key::group_key(f.key) == ck) {
                    dir = Key::direction_in(kp, f.key);
                    return s.index;
                }
            }
        }
        // new flow
        if (lim_.max_flows > 0) {
            while (live_ >= lim_.max_flows && lru_head_ != npos32) {
                ++stats_.evicted_max_flows;
                end_flow(lru_head_, end_reason::evicted, out);
            }
        }
        std::uint32_t fi;
        if (!free_.empty()) {
            fi = free_.back();
            free_.pop_back();
        } else {
            fi = static_cast<std::uint32_t>(entries_.size());
            entries_.emplace_back();
        }
        entry& e = entries_[fi];
        flow& f = e.rec;
        dir = Key::open(kp, f.key);
        f.id = stats_.flows++;
        f.packets = 0;
        f.bytes = 0;
        f.first_ns = kp.pkt.time_ns;
        f.last_ns = kp.pkt.time_ns;
        stage_.open(e.state, f);
        e.live = true;
        e.lru_prev = e.lru_next = npos32;
        ++live_;
        if (live_ > stats_.peak_live_flows) stats_.peak_live_flows = live_;
        insert_slot(h, fi);
        if (track_lru_) link_tail(fi);
        return fi;
    }

    [[nodiscard]] std::uint64_t hash_of(std::uint32_t fi) const noexcept {
        return hash(Key::group_key(entries_[fi].rec.key));
    }

    void insert_slot(std::uint64_t h, std::uint32_t fi) {
        if ((live_ + 1) * 2 > slots_.size()) grow();
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = static_cast<std::size_t>(h) & mask;
        while (slots_[i].index != npos32) i = (i + 1) & mask;
        slots_[i] = slot{fi, static_cast<std::uint32_t>(h >> 32)};
    }

    void grow() {
        std::vector<slot> old = std::move(slots_);
        slots_.assign(old.size() * 2, slot{});
        const std::size_t mask = slots_.size() - 1;
        for (const slot& s : old) {
            if (s.index == npos32) continue;
            std::size_t i = static_cast<std::size_t>(hash_of(s.index)) & mask;
            while (slots_[i].index != npos32) i = (i + 1) & mask;
            slots_[i] = s;
        }
    }

    // Backward-shift deletion keeps linear probing free of tombstones.
    void erase_slot(std::uint32_t fi) {
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = static_cast<std::size_t>(hash_of(fi)) & mask;
        while (slots_[i].index != fi) i = (i + 1) & mask;
        std::size_t j = i;
        for (;;) {
            j = (j + 1) & mask;
            if (slots_[j].index == npos32) break;
            const std::size_t home = static_cast<std::size_t>(hash_of(slots_[j].index)) & mask;
            // move j back to i if its home is not in (i, j]
            const bool in_range = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
            if (!in_range) {
                slots_[i] = slots_[j];
                i = j;
            }
        }
        slots_[i] = slot{};
    }

    void link_tail(std::uint32_t fi) {
        entry& e = entries_[fi];
        e.lru_prev = lru_tail_;
        e.lru_next = npos32;
        if (lru_tail_ != npos32) entries_[lru_tail_].lru_next = fi;
        else lru_head_ = fi;
        lru_tail_ = fi;
    }
    void unlink(std::uint32_t fi) {
        entry& e = entries_[fi];
        if (e.lru_prev != npos32) entries_[e.lru_prev].lru_next = e.lru_next;
        else lru_head_ = e.lru_next;
        if (e.lru_next != npos32) entries_[e.lru_next].lru_prev = e.lru_prev;
        else lru_tail_ = e.lru_prev;
        e.lru_prev = e.lru_next = npos32;
    }
    void touch(std::uint32_t fi) {
        if (lru_tail_ == fi) return;
        unlink(fi);
        link_tail(fi);
    }

    template <class Out>
    void expire_idle(std::int64_t now, Out& out) {
        while (lru_head_ != npos32 && now - entries_[lru_head_].rec.last_ns > lim_.idle_timeout_ns) {
            ++stats_.idle_ended;
            end_flow(lru_head_, end_reason::idle_timeout, out);
        }
    }

    template <class Out>
    void end_flow(std::uint32_t fi, end_reason why, Out& out) {
        entry& e = entries_[fi];
        if constexpr (requires { stage_.close(e.state, std::as_const(e.rec), why, out); })
            stage_.close(e.state, std::as_const(e.rec), why, out);  // a stage that counts what an eviction cuts
        else
            stage_.close(e.state, e.rec, out);
        if (why == end_reason::evicted) ++stats_.evicted;
        if (cached_ == fi) cached_ = npos32;
        out.on_flow_end(std::as_const(e.rec), why);
        if (track_lru_) unlink(fi);
        erase_slot(fi);
        e.live = false;
        --live_;
        free_.push_back(fi);
    }

    limits lim_;
    [[no_unique_address]] Key key_;
    Stage stage_;
    bool track_lru_ = false;
    std::vector<entry> entries_;
    std::vector<std::uint32_t> free_;
    std::vector<slot> slots_;
    std::size_t live_ = 0;
    std::uint32_t cached_ = npos32;
    flow_key cached_key_;
    direction cached_dir_ = direction::forward;
    std::uint32_t lru_head_ = npos32;
    std::uint32_t lru_tail_ = npos32;
    table_stats stats_;
};

}  // namespace flowpic::flows
