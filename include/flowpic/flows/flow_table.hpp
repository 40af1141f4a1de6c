#pragma once
// The flow table: groups packets into flows (unidirectional 5-tuple, or bidirectional with a
// direction bit), cuts them into blocks as windows complete, and hands both out in bounded memory.

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "flowpic/blocks/block.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/config.hpp"
#include "flowpic/flows/flow.hpp"
#include "flowpic/fwd.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::flows {

// Key policies.
struct unidirectional {  // the reference: one direction of the 5-tuple
    static constexpr bool is_bidirectional = false;
};
struct bidirectional {   // both directions in one flow; packet::dir tells them apart
    static constexpr bool is_bidirectional = true;
};

template <class K>
concept key_policy = requires {
    { K::is_bidirectional } -> std::convertible_to<bool>;
};

// Bounds on what the table holds. When a bound is reached, the least recently active flows end
// early (end_reason::evicted): their complete windows are handed out and the flow is reported;
// a later packet with the same key starts a new flow.
struct limits {
    std::int64_t idle_timeout_ns = 0;  // 0: none (the reference)
    std::size_t max_flows = 0;         // live flows; 0: unbounded
    std::size_t max_packets = 0;       // packets held in flow buffers; 0: unbounded
};

// Receives blocks and ended flows. Spans inside a block are valid only during the call.
template <class S>
concept sink = requires(S& s, const blocks::block& b, const flow& f, end_reason r) {
    s.on_block(b);
    s.on_flow_end(f, r);
};

// A sink made of two callables; either may be a no-op.
template <class OnBlock, class OnFlowEnd>
struct callback_sink {
    OnBlock block_fn;
    OnFlowEnd flow_fn;
    void on_block(const blocks::block& b) { block_fn(b); }
    void on_flow_end(const flow& f, end_reason r) { flow_fn(f, r); }
};
template <class A, class B>
callback_sink(A, B) -> callback_sink<A, B>;

struct ignore {
    template <class... T>
    void operator()(const T&...) const noexcept {}
};

struct table_stats {
    std::uint64_t packets = 0;
    std::uint64_t flows = 0;           // flows created
    std::uint64_t blocks = 0;          // blocks handed out
    std::uint64_t idle_ended = 0;
    std::uint64_t evicted = 0;
    std::size_t peak_live_flows = 0;
    std::size_t peak_buffered_packets = 0;
};

template <class Key>
class flow_table {
    static_assert(key_policy<Key>, "flowpic: the flow key policy must be flows::unidirectional, flows::bidirectional "
                                   "or a type with a static constexpr bool is_bidirectional");

public:
    static constexpr bool bidirectional = Key::is_bidirectional;

    // Without a window spec the table only counts (no packet is stored) unless keep_packets is set.
    explicit flow_table(limits lim = {}, std::optional<blocks::window_spec> window = std::nullopt,
                        bool keep_packets = false)
        : lim_(lim), window_(window), keep_all_(keep_packets) {
        track_lru_ = lim_.idle_timeout_ns > 0 || lim_.max_flows > 0 || lim_.max_packets > 0;
        store_ = window_.has_value() || keep_all_;
        slots_.assign(1024, slot{});
    }

    // Adds one packet; blocks that it completes and flows that end are handed to `out`.
    template <sink Out>
    void add(const keyed_packet& kp, Out& out) {
        ++stats_.packets;
        const std::int64_t t = kp.pkt.time_ns;
        if (track_lru_ && lim_.idle_timeout_ns > 0) expire_idle(t, out);

        direction dir = direction::forward;
        std::uint32_t fi = find_or_create(kp, dir, out);
        flow& f = flows_[fi];

        if (window_ && !f.windows_done) complete_windows(f, t, out);

        ++f.packets;
        f.bytes += kp.pkt.size;
        if (t > f.last_ns) f.last_ns = t;
        if (store_ && (keep_all_ || !f.windows_done)) {
            packet p = kp.pkt;
            p.dir = dir;
            if (FLOWPIC_LIKELY(f.buffer.empty() || f.buffer.back().time_ns <= t)) {
                f.buffer.push_back(p);
            } else {  // captures may reorder a little: keep the buffer sorted by time
                auto it = std::upper_bound(f.buffer.begin(), f.buffer.end(), t,
                                           [](std::int64_t v, const packet& q) { return v < q.time_ns; });
                f.buffer.insert(it, p);
            }
            ++buffered_;
            if (buffered_ > stats_.peak_buffered_packets) stats_.peak_buffered_packets = buffered_;
        }
        if (track_lru_) {
            touch(fi);
            if (lim_.max_packets > 0) {
                while (buffered_ > lim_.max_packets && lru_head_ != npos32) end_flow(lru_head_, end_reason::evicted, out);
            }
        }
    }

    // Adds every packet of a source, then ends all flows.
    template <class Source, sink Out>
        requires source::packet_source<Source>
    void consume(Source& src, Out& out) {
        keyed_packet kp;
        while (src.next(kp)) add(kp, out);
        finish(out);
    }

    // Ends every live flow (in creation order): last windows, then the flow itself.
    template <sink Out>
    void finish(Out& out) {
        std::vector<std::uint32_t> live;
        live.reserve(live_);
        for (std::uint32_t i = 0; i < flows_.size(); ++i)
            if (flows_[i].live) live.push_back(i);
        std::sort(live.begin(), live.end(), [&](auto a, auto b) { return flows_[a].id < flows_[b].id; });
        for (auto i : live) end_flow(i, end_reason::end_of_input, out);
    }

    [[nodiscard]] std::size_t live_flows() const noexcept { return live_; }
    [[nodiscard]] std::size_t buffered_packets() const noexcept { return buffered_; }
    [[nodiscard]] const table_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] const limits& bounds() const noexcept { return lim_; }
    [[nodiscard]] const std::optional<blocks::window_spec>& window() const noexcept { return window_; }

private:
    static constexpr std::uint32_t npos32 = ~0u;
    struct slot {
        std::uint32_t index = npos32;  // into flows_
        std::uint32_t tag = 0;         // high bits of the hash
    };

    // Bidirectional keys are looked up in one canonical orientation (smaller endpoint first).
    [[nodiscard]] static flow_key canonical(const flow_key& k, bool& swapped) noexcept {
        if constexpr (bidirectional) {
            const bool sw = (k.dst < k.src) || (k.dst == k.src && k.dport < k.sport);
            swapped = sw;
            return sw ? k.reversed() : k;
        } else {
            swapped = false;
            return k;
        }
    }

    [[nodiscard]] flow_key lookup_key(const flow& f) const noexcept {
        bool sw = false;
        return canonical(f.key, sw);
    }

    template <class Out>
    std::uint32_t find_or_create(const keyed_packet& kp, direction& dir, Out& out) {
        // consecutive packets mostly belong to one flow: skip hashing for them
        if (cached_ != npos32 && kp.key == cached_key_) {
            dir = (kp.direction_known && !bidirectional) ? kp.pkt.dir : cached_dir_;
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
        bool swapped = false;
        const flow_key ck = canonical(kp.key, swapped);
        const std::uint64_t h = hash(ck);
        const std::uint32_t tag = static_cast<std::uint32_t>(h >> 32);
        std::size_t mask = slots_.size() - 1;
        std::size_t i = static_cast<std::size_t>(h) & mask;
        for (;; i = (i + 1) & mask) {
            const slot& s = slots_[i];
            if (s.index == npos32) break;
            if (s.tag == tag) {
                flow& f = flows_[s.index];
                if constexpr (bidirectional) {
                    if (lookup_key(f) == ck) {
                        dir = (f.key == kp.key) ? direction::forward : direction::reverse;
                        return s.index;
                    }
                } else {
                    if (f.key == ck) {
                        if (kp.direction_known) dir = kp.pkt.dir;
                        return s.index;
                    }
                }
            }
        }
        // new flow
        if (lim_.max_flows > 0) {
            while (live_ >= lim_.max_flows && lru_head_ != npos32) end_flow(lru_head_, end_reason::evicted, out);
        }
        std::uint32_t fi;
        if (!free_.empty()) {
            fi = free_.back();
            free_.pop_back();
        } else {
            fi = static_cast<std::uint32_t>(flows_.size());
            flows_.emplace_back();
        }
        flow& f = flows_[fi];
        f.key = kp.key;
        dir = direction::forward;
        if constexpr (bidirectional) {
            if (kp.direction_known && kp.pkt.dir == direction::reverse) {
                f.key = kp.key.reversed();  // orient the flow client -> server
                dir = direction::reverse;
            }
        } else {
            if (kp.direction_known) dir = kp.pkt.dir;
        }
        f.id = stats_.flows++;
        f.packets = 0;
        f.bytes = 0;
        f.first_ns = kp.pkt.time_ns;
        f.last_ns = kp.pkt.time_ns;
        f.buffer.clear();
        f.next_window = 0;
        f.windows_done = false;
        f.live = true;
        f.lru_prev = f.lru_next = npos32;
        ++live_;
        if (live_ > stats_.peak_live_flows) stats_.peak_live_flows = live_;
        insert_slot(ck, h, fi);
        if (track_lru_) link_tail(fi);
        return fi;
    }

    void insert_slot(const flow_key&, std::uint64_t h, std::uint32_t fi) {
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
            const std::uint64_t h = hash(lookup_key(flows_[s.index]));
            std::size_t i = static_cast<std::size_t>(h) & mask;
            while (slots_[i].index != npos32) i = (i + 1) & mask;
            slots_[i] = s;
        }
    }

    // Backward-shift deletion keeps linear probing free of tombstones.
    void erase_slot(std::uint32_t fi) {
        const std::uint64_t h = hash(lookup_key(flows_[fi]));
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = static_cast<std::size_t>(h) & mask;
        while (slots_[i].index != fi) i = (i + 1) & mask;
        std::size_t j = i;
        for (;;) {
            j = (j + 1) & mask;
            if (slots_[j].index == npos32) break;
            const std::size_t home = static_cast<std::size_t>(hash(lookup_key(flows_[slots_[j].index]))) & mask;
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
        flow& f = flows_[fi];
        f.lru_prev = lru_tail_;
        f.lru_next = npos32;
        if (lru_tail_ != npos32) flows_[lru_tail_].lru_next = fi;
        else lru_head_ = fi;
        lru_tail_ = fi;
    }
    void unlink(std::uint32_t fi) {
        flow& f = flows_[fi];
        if (f.lru_prev != npos32) flows_[f.lru_prev].lru_next = f.lru_next;
        else lru_head_ = f.lru_next;
        if (f.lru_next != npos32) flows_[f.lru_next].lru_prev = f.lru_prev;
        else lru_tail_ = f.lru_prev;
        f.lru_prev = f.lru_next = npos32;
    }
    void touch(std::uint32_t fi) {
        if (lru_tail_ == fi) return;
        unlink(fi);
        link_tail(fi);
    }

    template <class Out>
    void expire_idle(std::int64_t now, Out& out) {
        while (lru_head_ != npos32 && now - flows_[lru_head_].last_ns > lim_.idle_timeout_ns) {
            ++stats_.idle_ended;
            end_flow(lru_head_, end_reason::idle_timeout, out);
        }
    }

    // Window k of flow f: [start, end) or [start, end].
    [[nodiscard]] std::int64_t window_start(const flow& f, std::uint64_t k) const noexcept {
        return f.first_ns + static_cast<std::int64_t>(k) * window_->stride();
    }

    template <class Out>
    void emit_window(flow& f, std::uint64_t k, Out& out) {
        const blocks::window_spec& w = *window_;
        const std::int64_t start = window_start(f, k);
        const std::int64_t end = start + w.length_ns;
        const packet* b = f.buffer.data();
        const packet* e = b + f.buffer.size();
        const packet* lo = std::lower_bound(b, e, start, [](const packet& p, std::int64_t v) { return p.time_ns < v; });
        const packet* hi = w.inclusive_end
                               ? std::upper_bound(lo, e, end, [](std::int64_t v, const packet& p) { return v < p.time_ns; })
                               : std::lower_bound(lo, e, end, [](const packet& p, std::int64_t v) { return p.time_ns < v; });
        const std::size_t n = static_cast<std::size_t>(hi - lo);
        if (n == 0 || n < w.min_packets) return;
        if ((hi - 1)->time_ns - lo->time_ns < w.min_span_ns) return;
        ++stats_.blocks;
        out.on_block(blocks::block{&f, std::span<const packet>(lo, n), start, end, k});
    }

    // Drops buffered packets that no window from f.next_window on can need.
    void trim(flow& f) {
        if (keep_all_) return;
        if (f.windows_done) {
            buffered_ -= f.buffer.size();
            f.buffer.clear();
            return;
        }
        const std::int64_t keep_from = window_start(f, f.next_window);
        auto it = std::lower_bound(f.buffer.begin(), f.buffer.end(), keep_from,
                                   [](const packet& p, std::int64_t v) { return p.time_ns < v; });
        const auto drop = static_cast<std::size_t>(it - f.buffer.begin());
        if (drop == 0) return;
        f.buffer.erase(f.buffer.begin(), it);
        buffered_ -= drop;
    }

    // Hands out windows that the packet at time t closes.
    template <class Out>
    void complete_windows(flow& f, std::int64_t t, Out& out) {
        const blocks::window_spec& w = *window_;
        const std::int64_t s = w.stride();
        bool advanced = false;
        for (;;) {
            const std::int64_t end = window_start(f, f.next_window) + w.length_ns;
            if (w.inclusive_end ? (t <= end) : (t < end)) break;
            emit_window(f, f.next_window, out);
            ++f.next_window;
            advanced = true;
            if (w.first_only) {
                f.windows_done = true;
                break;
            }
            // No buffered packet from here on: every window that t closes is empty, skip them.
            if (f.buffer.empty() || f.buffer.back().time_ns < window_start(f, f.next_window)) {
                const std::int64_t d = t - f.first_ns - w.length_ns;  // window k is open iff k * s + L (>|>=) t - first
                std::uint64_t k = 0;
                if (d >= 0) k = static_cast<std::uint64_t>(w.inclusive_end ? (d + s - 1) / s : d / s + 1);
                if (k > f.next_window) f.next_window = k;
                break;
            }
        }
        if (advanced) trim(f);
    }

    template <class Out>
    void end_flow(std::uint32_t fi, end_reason why, Out& out) {
        flow& f = flows_[fi];
        if (window_ && !f.windows_done) {
            const blocks::window_spec& w = *window_;
            const std::int64_t last = f.last_ns;
            if (w.ends == blocks::end_rule::authors && f.next_window == 0 &&
                last - f.first_ns > w.length_ns - w.stride() && last - f.first_ns < w.length_ns) {
                emit_window(f, 0, out);
                f.next_window = 1;
            }
            for (;;) {
                const std::int64_t start = window_start(f, f.next_window);
                if (start > last) break;
                const std::int64_t end = start + w.length_ns;
                const bool closes = w.ends == blocks::end_rule::any || end <= last;
                if (!closes) break;
                emit_window(f, f.next_window, out);
                ++f.next_window;
                if (w.first_only) break;
            }
        }
        if (why == end_reason::evicted) ++stats_.evicted;
        if (cached_ == fi) cached_ = npos32;
        out.on_flow_end(f, why);
        buffered_ -= f.buffer.size();
        f.buffer.clear();
        f.buffer.shrink_to_fit();
        if (track_lru_) unlink(fi);
        erase_slot(fi);
        f.live = false;
        --live_;
        free_.push_back(fi);
    }

    limits lim_;
    std::optional<blocks::window_spec> window_;
    bool keep_all_ = false;
    bool store_ = false;
    bool track_lru_ = false;
    std::vector<flow> flows_;
    std::vector<std::uint32_t> free_;
    std::vector<slot> slots_;
    std::size_t live_ = 0;
    std::size_t buffered_ = 0;
    std::uint32_t cached_ = npos32;
    flow_key cached_key_;
    direction cached_dir_ = direction::forward;
    std::uint32_t lru_head_ = npos32;
    std::uint32_t lru_tail_ = npos32;
    table_stats stats_;
};

}  // namespace flowpic::flows
