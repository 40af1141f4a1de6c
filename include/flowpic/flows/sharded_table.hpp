#pragma once
// flows::sharded_table<Key, Stage>: the flow table split into a fixed number of shards by the hash
// of each packet's group key, so that chunks of packets are grouped on several threads. Its sink
// sees what one flows::flow_table would hand out, in the same order and with the same flow ids,
// whatever the thread count:
//
//   flows::sharded_table<flows::unidirectional> table;   // flows::limits{}: 16 shards
//   table.consume(source, sink);                         // read | partition | group | replay
//
// How: a chunk of packets is partitioned by shard (each shard gets its packets in input order),
// every shard's table groups its packets (the shards on several threads), recording what they
// hand out (ended flows, a stage's blocks with copies of their packets), each event tagged with
// the input index of the packet that produced it; a serial replay then walks the chunk's packets
// in input order and hands each packet's events to the sink. Flows are renumbered in the order of
// their first packet, as one table numbers them. At the end, every shard's live flows end and are
// replayed in flow id order (one table ends them in creation order).
//
// Exactness: without limits a flow's output depends on its own packets only, so the shards give
// one table's output byte for byte (tests/unit/test_sharded_table.cpp checks it against
// flow_table). An idle timeout, max_flows or max_packets acts over all flows (one LRU list): with
// any of them set, and for flows::all_flows (one flow), the table keeps one shard, so the output
// is again one table's, and grouping overlaps reading but runs on one thread. The shard count
// never depends on the thread count.
//
// stats() adds the shards' counters (peak_live_flows: the sum of the shards' peaks, an upper bound
// of the peak over all flows when there are several shards); for_each_shard gives a stage's own.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_pipeline.h>

#include "flowpic/blocks/block.hpp"
#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/flows/flow.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/flows/sink.hpp"
#include "flowpic/flows/stage.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::flows {

template <class Key, class Stage = no_stage>
class sharded_table {
public:
    using key_policy_type = Key;
    using stage_type = Stage;
    using table_type = flow_table<Key, Stage>;

    static constexpr std::size_t default_shards = 16;
    static constexpr std::size_t default_chunk = std::size_t{1} << 15;  // packets per chunk

    // What one shard's packets of a chunk handed out.
    struct record {
        std::uint64_t at = 0;           // input index of the packet (at the end: the flow's id)
        flow rec;                       // the flow as its shard's table saw it (shard-local id)
        std::int64_t start_ns = 0, end_ns = 0;
        std::uint64_t index = 0;
        std::size_t first = 0, count = 0;  // a block's packets in the shard's arena
        end_reason why = end_reason::end_of_input;
        bool block = false;
    };
    struct shard_events {
        std::vector<record> events;
        std::vector<packet> arena;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> created;  // (input index, shard-local id)
        std::uint64_t at = 0;
        const std::unordered_map<std::uint64_t, std::uint64_t>* ids = nullptr;  // at the end: local -> global

        void clear() {
            events.clear();
            arena.clear();
            created.clear();
        }
        template <class Block>
        void on_block(const Block& b) {
            record r;
            r.at = ids ? ids->at(b.owner->id) : at;
            r.rec = *b.owner;
            r.start_ns = b.window_start_ns;
            r.end_ns = b.window_end_ns;
            r.index = b.index;
            r.first = arena.size();
            r.count = b.packets.size();
            arena.insert(arena.end(), b.packets.begin(), b.packets.end());
            r.block = true;
            events.push_back(r);
        }
        void on_flow_end(const flow& f, end_reason why) {
            record r;
            r.at = ids ? ids->at(f.id) : at;
            r.rec = f;
            r.why = why;
            events.push_back(r);
        }
    };

    // A chunk of the input on its way: its packets, their shards, and what each shard handed out.
    struct chunk {
        std::vector<keyed_packet> packets;
        std::uint64_t base = 0;                 // input index of packets[0]
        std::vector<std::uint16_t> shard_of;    // per packet
        std::vector<std::uint32_t> order;       // packet positions grouped by shard, input order within
        std::vector<std::uint32_t> starts;      // shard s: order[starts[s], starts[s + 1])
        std::vector<shard_events> out;          // per shard
    };

    explicit sharded_table(limits lim = {}, Stage stage = {}, std::size_t shards = default_shards) : lim_(lim) {
        const bool global = lim.idle_timeout_ns > 0 || lim.max_flows > 0 || lim.max_packets > 0 || !Key::keyed;
        const std::size_t n = global ? 1 : std::clamp<std::size_t>(shards, 1, 1u << 15);
        shards_.reserve(n);
        for (std::size_t s = 0; s < n; ++s) shards_.emplace_back(lim, stage);
        ids_.resize(n);
    }

    [[nodiscard]] std::size_t shard_count() const noexcept { return shards_.size(); }

    // The shard of a packet: from the hash of its group key, so both directions of a bidirectional
    // flow meet. High bits: the shard's table indexes its slots by the low ones.
    [[nodiscard]] std::size_t shard_of(const keyed_packet& kp) const noexcept {
        if (shards_.size() == 1) return 0;
        return static_cast<std::size_t>((hash(Key::group_key(kp.key)) >> 40) % shards_.size());
    }

    // Step 1 (any thread, chunks in any order): each packet's shard.
    void partition(chunk& c) const {
        const std::size_t n = c.packets.size(), S = shards_.size();
        c.shard_of.resize(n);
        c.starts.assign(S + 1, 0);
        for (std::size_t i = 0; i < n; ++i) {
            const auto s = static_cast<std::uint16_t>(shard_of(c.packets[i]));
            c.shard_of[i] = s;
            ++c.starts[s + 1];
        }
        for (std::size_t s = 0; s < S; ++s) c.starts[s + 1] += c.starts[s];
        c.order.resize(n);
        std::vector<std::uint32_t> at(c.starts.begin(), c.starts.end() - 1);
        for (std::size_t i = 0; i < n; ++i) c.order[at[c.shard_of[i]]++] = static_cast<std::uint32_t>(i);
        c.out.resize(S);
        for (auto& o : c.out) o.clear();
    }

    // Step 2 (chunks one at a time, in input order): every shard groups its packets, the shards
    // in parallel.
    void group(chunk& c) {
        const auto run = [&](std::size_t s) {
            table_type& t = shards_[s];
            shard_events& o = c.out[s];
            o.ids = nullptr;
            for (std::uint32_t k = c.starts[s]; k < c.starts[s + 1]; ++k) {
                const std::uint32_t i = c.order[k];
                o.at = c.base + i;
                const std::uint64_t before = t.stats().flows;
                t.add(c.packets[i], o);
                if (t.stats().flows != before) o.created.emplace_back(o.at, before);
            }
        };
        if (shards_.size() == 1) {
            run(0);
            return;
        }
        oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, shards_.size(), 1),
                                  [&](const oneapi::tbb::blocked_range<std::size_t>& r) {
                                      for (std::size_t s = r.begin(); s != r.end(); ++s) run(s);
                                  });
    }

    // Step 3 (chunks one at a time, in input order): hands the chunk's events to `out` in input
    // order, with flow ids numbered by first packet.
    template <flow_sink Out>
    void replay(chunk& c, Out& out) {
        std::vector<std::size_t> ev(shards_.size(), 0), cr(shards_.size(), 0);
        for (std::size_t i = 0; i < c.packets.size(); ++i) {
            const std::size_t s = c.shard_of[i];
            const std::uint64_t at = c.base + i;
            shard_events& o = c.out[s];
            if (cr[s] < o.created.size() && o.created[cr[s]].first == at) ids_[s].emplace(o.created[cr[s]++].second, next_id_++);
            for (std::size_t& e = ev[s]; e < o.events.size() && o.events[e].at == at; ++e) hand_out(s, o, o.events[e], out);
        }
    }

    // Adds a chunk (steps 1 to 3).
    template <flow_sink Out>
    void add(chunk& c, Out& out) {
        partition(c);
        group(c);
        replay(c, out);
    }

    // Ends every live flow; handed out in flow id order, as one table ends them in creation order.
    template <flow_sink Out>
    void finish(Out& out) {
        std::vector<shard_events> ends(shards_.size());
        const auto run = [&](std::size_t s) {
            ends[s].ids = &ids_[s];
            shards_[s].finish(ends[s]);
        };
        if (shards_.size() == 1) run(0);
        else
            oneapi::tbb::parallel_for(oneapi::tbb::blocked_range<std::size_t>(0, shards_.size(), 1),
                                      [&](const oneapi::tbb::blocked_range<std::size_t>& r) {
                                          for (std::size_t s = r.begin(); s != r.end(); ++s) run(s);
                                      });
        // each flow's events are consecutive within its shard (its blocks, then its end)
        struct run_of {
            std::uint64_t id;
            std::size_t shard, from, to;
        };
        std::vector<run_of> runs;
        for (std::size_t s = 0; s < ends.size(); ++s) {
            const auto& e = ends[s].events;
            for (std::size_t i = 0; i < e.size();) {
                std::size_t j = i + 1;
                while (j < e.size() && e[j].at == e[i].at) ++j;
                runs.push_back({e[i].at, s, i, j});
                i = j;
            }
        }
        std::sort(runs.begin(), runs.end(), [](const run_of& a, const run_of& b) { return a.id < b.id; });
        for (const auto& r : runs)
            for (std::size_t i = r.from; i < r.to; ++i) hand_out(r.shard, ends[r.shard], ends[r.shard].events[i], out);
    }

    // Reads every packet of a source in chunks (source::read_chunk: pcap_file decodes them on all
    // threads) through the three steps as a oneTBB pipeline (reading the next chunk while the
    // shards group this one and the last is handed out), then ends all flows.
    template <class Source, flow_sink Out>
        requires source::packet_source<Source>
    void consume(Source& src, Out& out, std::size_t chunk_packets = default_chunk, std::size_t in_flight = 4) {
        chunk_packets = std::max<std::size_t>(chunk_packets, 1);
        // chunks are owned here, so that none leaks when the source throws mid-pipeline
        std::mutex pool_lock;
        std::vector<std::unique_ptr<chunk>> owned;
        std::vector<chunk*> spare;
        std::uint64_t read = 0;
        bool done = false;
        const auto take = [&] {
            std::lock_guard<std::mutex> g(pool_lock);
            if (spare.empty()) return owned.emplace_back(std::make_unique<chunk>()).get();
            chunk* c = spare.back();
            spare.pop_back();
            return c;
        };
        const auto give_back = [&](chunk* c) {
            std::lock_guard<std::mutex> g(pool_lock);
            spare.push_back(c);
        };
        oneapi::tbb::parallel_pipeline(
            std::max<std::size_t>(in_flight, 1),
            oneapi::tbb::make_filter<void, chunk*>(oneapi::tbb::filter_mode::serial_in_order,
                                                   [&](oneapi::tbb::flow_control& fc) -> chunk* {
                                                       if (done) {
                                                           fc.stop();
                                                           return nullptr;
                                                       }
                                                       chunk* c = take();
                                                       c->packets.resize(chunk_packets);
                                                       const std::size_t n = source::read_chunk(
                                                           src, c->packets.data(), chunk_packets, done);
                                                       c->packets.resize(n);
                                                       c->base = read;
                                                       read += n;
                                                       if (n == 0) {
                                                           fc.stop();
                                                           give_back(c);
                                                           return nullptr;
                                                       }
                                                       return c;
                                                   }) &
                oneapi::tbb::make_filter<chunk*, chunk*>(oneapi::tbb::filter_mode::parallel,
                                                         [&](chunk* c) {
                                                             partition(*c);
                                                             return c;
                                                         }) &
                oneapi::tbb::make_filter<chunk*, chunk*>(oneapi::tbb::filter_mode::serial_in_order,
                                                         [&](chunk* c) {
                                                             group(*c);
                                                             return c;
                                                         }) &
                oneapi::tbb::make_filter<chunk*, void>(oneapi::tbb::filter_mode::serial_in_order, [&](chunk* c) {
                    replay(*c, out);
                    give_back(c);
                }));
        finish(out);
    }

    // The shards' counters added (see above for peak_live_flows).
    [[nodiscard]] table_stats stats() const noexcept {
        table_stats t;
        for (const auto& s : shards_) t += s.stats();
        return t;
    }
    [[nodiscard]] std::size_t live_flows() const noexcept {
        std::size_t n = 0;
        for (const auto& s : shards_) n += s.live_flows();
        return n;
    }
    [[nodiscard]] const limits& bounds() const noexcept { return lim_; }
    // f(const flow_table<Key, Stage>&) for each shard, in shard order (e.g. to add a stage's counters).
    template <class F>
    void for_each_shard(F&& f) const {
        for (const auto& s : shards_) f(s);
    }

private:
    template <class Out>
    void hand_out(std::size_t s, shard_events& o, const record& r, Out& out) {
        flow f = r.rec;
        auto it = ids_[s].find(r.rec.id);
        f.id = it->second;
        if (r.block) {
            if constexpr (requires(Out& x, const blocks::block& b) { x.on_block(b); })
                out.on_block(blocks::block{&f, std::span<const packet>(o.arena.data() + r.first, r.count), r.start_ns,
                                           r.end_ns, r.index});
            return;
        }
        ids_[s].erase(it);
        out.on_flow_end(std::as_const(f), r.why);
    }

    limits lim_;
    std::vector<table_type> shards_;
    std::vector<std::unordered_map<std::uint64_t, std::uint64_t>> ids_;  // per shard: live flows' local -> global id
    std::uint64_t next_id_ = 0;
};

}  // namespace flowpic::flows
