#pragma once
// blocks::windower: the windowing stage. Cuts each flow into blocks (time windows, window_spec)
// while its packets stream in, as a per-flow stage of the flow table (flows/stage.hpp), so the
// window state sits in the flow's table entry. blocks::windowed_table<Key> is the composition.
//
// A window is handed out (out.on_block) when a packet beyond its end arrives or the flow ends;
// packets no later window needs are dropped at once, so memory is bounded by the traffic of one
// window per live flow.
//
// Windows are anchored at the flow's first packet in arrival order. A packet earlier than its
// flow's previous one joins an open window in time order; one earlier than every open window
// (before the first packet, or in a window already handed out) cannot be placed and is counted
// in late_packets (docs/formats.md, "Time order").
//
// Under window_spec::min_flow_packets a flow's windows are held (its
// packets buffered, at most that many) until the flow reaches the count, then handed out in
// the order they closed; a flow that ends short of it yields none.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "flowpic/blocks/block.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/config.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/flows/flow.hpp"

namespace flowpic::blocks {

struct window_stats {
    std::uint64_t blocks = 0;                // blocks handed out
    std::size_t peak_buffered_packets = 0;
    std::uint64_t late_packets = 0;     // earlier than every window still open: in no picture
    std::uint64_t evicted_windows = 0;  // open windows an eviction cut short (flows::limits): no block,
                                        // or a partial one under end_rule::any or authors
    std::uint64_t evicted_packets = 0;  // the packets in them
};

class windower {
public:
    struct state {
        std::vector<packet> buffer;     // packets still needed by open windows, sorted by time
        std::uint64_t next_window = 0;  // first window not yet handed out or skipped
        std::int64_t origin = 0;        // window 0 starts here: the flow's first packet in arrival order
        bool done = false;              // first_only flows after their one window
    };

    windower(window_spec w = {}) : w_(w) {}  // NOLINT(google-explicit-constructor): a table takes a spec

    [[nodiscard]] const window_spec& spec() const noexcept { return w_; }
    [[nodiscard]] const window_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::size_t held() const noexcept { return held_; }

    void open(state& s, const flows::flow& f) noexcept {
        s.buffer.clear();
        s.next_window = 0;
        s.origin = f.first_ns;
        s.done = false;
    }

    // A packet of flow f (its counters not yet counting it): windows it closes, then buffered.
    template <class Out>
    void add(state& s, const flows::flow& f, const packet& p, Out& out) {
        if (s.done) return;
        const std::int64_t t = p.time_ns;
        if (FLOWPIC_LIKELY(f.packets + 1 >= w_.min_flow_packets)) {
            // the first packet at the count releases what the held ones closed: as late as any of them
            const bool releasing = f.packets + 1 == w_.min_flow_packets && !s.buffer.empty();
            complete_windows(s, f, releasing ? std::max(t, s.buffer.back().time_ns) : t, out);
        }
        if (s.done) return;
        // time went back past every open window (windows never move back): counted, left out
        if (FLOWPIC_UNLIKELY(t < window_start(s, s.next_window))) {
            ++stats_.late_packets;
            return;
        }
        if (FLOWPIC_LIKELY(s.buffer.empty() || s.buffer.back().time_ns <= t)) {
            s.buffer.push_back(p);
        } else {  // captures may reorder a little: keep the buffer sorted by time
            auto it = std::upper_bound(s.buffer.begin(), s.buffer.end(), t,
                                       [](std::int64_t v, const packet& q) { return v < q.time_ns; });
            s.buffer.insert(it, p);
        }
        ++held_;
        if (held_ > stats_.peak_buffered_packets) stats_.peak_buffered_packets = held_;
    }

    // The flow ends: its last windows by the end rule, then its packets are freed.
    template <class Out>
    void close(state& s, const flows::flow& f, Out& out) {
        close(s, f, flows::end_reason::end_of_input, out);
    }
    // The same; an open window that an eviction cuts short is counted.
    template <class Out>
    void close(state& s, const flows::flow& f, flows::end_reason why, Out& out) {
        if (!s.done && f.packets >= w_.min_flow_packets) {
            if (why == flows::end_reason::evicted) {  // the open window, cut short: dropped or partial
                const auto cut = static_cast<std::uint64_t>(
                    s.buffer.end() - std::lower_bound(s.buffer.begin(), s.buffer.end(), window_start(s, s.next_window),
                                                      [](const packet& p, std::int64_t v) { return p.time_ns < v; }));
                if (cut > 0) {
                    ++stats_.evicted_windows;
                    stats_.evicted_packets += cut;
                }
            }
            const std::int64_t last = f.last_ns;
            if (w_.ends == end_rule::authors && s.next_window == 0 && last - s.origin > w_.length_ns - w_.stride() &&
                last - s.origin < w_.length_ns) {
                emit_window(s, f, 0, out);
                s.next_window = 1;
            }
            for (;;) {
                const std::int64_t start = window_start(s, s.next_window);
                if (start > last) break;
                const std::int64_t end = start + w_.length_ns;
                const bool closes = w_.ends == end_rule::any || end <= last;
                if (!closes) break;
                emit_window(s, f, s.next_window, out);
                ++s.next_window;
                if (w_.first_only) break;
                // empty windows hand out nothing: jump to the next one a buffered packet reaches
                const packet* p = first_buffered_from(s, window_start(s, s.next_window));
                if (p == nullptr) break;
                s.next_window = std::max(s.next_window, first_window_reaching(s, p->time_ns));
            }
        }
        held_ -= s.buffer.size();
        s.buffer.clear();
        s.buffer.shrink_to_fit();
    }

private:
    // Window k of flow f: [start, end) or [start, end].
    [[nodiscard]] std::int64_t window_start(const state& s, std::uint64_t k) const noexcept {
        return s.origin + static_cast<std::int64_t>(k) * w_.stride();
    }

    template <class Out>
    void emit_window(const state& s, const flows::flow& f, std::uint64_t k, Out& out) {
        const std::int64_t start = window_start(s, k);
        const std::int64_t end = start + w_.length_ns;
        const packet* b = s.buffer.data();
        const packet* e = b + s.buffer.size();
        const packet* lo = std::lower_bound(b, e, start, [](const packet& p, std::int64_t v) { return p.time_ns < v; });
        const packet* hi = w_.inclusive_end
                               ? std::upper_bound(lo, e, end, [](std::int64_t v, const packet& p) { return v < p.time_ns; })
                               : std::lower_bound(lo, e, end, [](const packet& p, std::int64_t v) { return p.time_ns < v; });
        const std::size_t n = static_cast<std::size_t>(hi - lo);
        if (n == 0 || n < w_.min_packets) return;
        if ((hi - 1)->time_ns - lo->time_ns < w_.min_span_ns) return;
        ++stats_.blocks;
        out.on_block(block{&f, std::span<const packet>(lo, n), start, end, k});
    }

    // Drops buffered packets that no window from s.next_window on can need.
    void trim(state& s) {
        if (s.done) {
            held_ -= s.buffer.size();
            s.buffer.clear();
            return;
        }
        const std::int64_t keep_from = window_start(s, s.next_window);
        auto it = std::lower_bound(s.buffer.begin(), s.buffer.end(), keep_from,
                                   [](const packet& p, std::int64_t v) { return p.time_ns < v; });
        const auto drop = static_cast<std::size_t>(it - s.buffer.begin());
        if (drop == 0) return;
        s.buffer.erase(s.buffer.begin(), it);
        held_ -= drop;
    }

    // Hands out the windows that a packet at time t closes.
    template <class Out>
    void complete_windows(state& s, const flows::flow& f, std::int64_t t, Out& out) {
        bool advanced = false;
        for (;;) {
            const std::int64_t end = window_start(s, s.next_window) + w_.length_ns;
            if (w_.inclusive_end ? (t <= end) : (t < end)) break;
            emit_window(s, f, s.next_window, out);
            ++s.next_window;
            advanced = true;
            if (w_.first_only) {
                s.done = true;
                break;
            }
            // Windows no buffered packet reaches are empty: skip them (a gap of years is one step),
            // up to the first window t leaves open.
            const std::uint64_t open_at_t = first_window_reaching(s, t);
            const packet* p = first_buffered_from(s, window_start(s, s.next_window));
            const std::uint64_t k = p == nullptr ? open_at_t : std::min(open_at_t, first_window_reaching(s, p->time_ns));
            if (k > s.next_window) s.next_window = k;
            if (p == nullptr) break;
        }
        if (advanced) trim(s);
    }

    // The first window whose end reaches time x: window k reaches x iff k * stride + L (>|>=) x - origin.
    [[nodiscard]] std::uint64_t first_window_reaching(const state& s, std::int64_t x) const noexcept {
        const std::int64_t d = x - s.origin - w_.length_ns;
        if (d < 0) return 0;
        const std::int64_t st = w_.stride();
        return static_cast<std::uint64_t>(w_.inclusive_end ? (d + st - 1) / st : d / st + 1);
    }

    // The earliest buffered packet at or after `from`, or nullptr.
    [[nodiscard]] static const packet* first_buffered_from(const state& s, std::int64_t from) noexcept {
        auto it = std::lower_bound(s.buffer.begin(), s.buffer.end(), from,
                                   [](const packet& q, std::int64_t v) { return q.time_ns < v; });
        return it == s.buffer.end() ? nullptr : &*it;
    }

    window_spec w_;
    std::size_t held_ = 0;
    window_stats stats_;
};

}  // namespace flowpic::blocks
