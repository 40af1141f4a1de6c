#pragma once
// pipeline<Policies...>: the whole FlowPic classifier composed at compile time, streaming. Give
// the network and only the policies that differ from the defaults, in any order:
//
//   using P = presets::mini_flowpic;
//   using classifier = pipeline<presets::network_t<P, 5>, source::pcap_file<>, P::flow_key,
//                               blocks::window<P::window>, P::picture>;
//   presets::network_t<P, 5> net;
//   nn::load_model("model.fpm", net);
//   source::pcap_file<> capture("capture.pcap");
//   classifier(net).run(capture, [](const classification& r) { ... });
//
// Policy kinds, each recognised by what it is, and their defaults:
//   network     an nn::sequential<...> (required)
//   source      a packet source (source::packet_source)                    source::any_source
//   flow key    flows::unidirectional / bidirectional / all_flows          flows::unidirectional
//   windows     blocks::window<spec>                                       blocks::window<specs::shapira2019>
//   picture     picture::histogram<...>                                    picture::histogram<>
//   backend     backend::scalar / simd / tbb / cuda                        backend::default_backend (tbb)
//   decision    decision::per_block / majority_vote / mean_probability     decision::per_block
//
// Three stages run as a oneTBB pipeline over batches of blocks: reading the source into the flow
// table (serial: packets are ordered; the table is a flows::sharded_table, so each chunk of
// packets is grouped by `shards` shards on all threads and handed out in input order, the same
// blocks in the same order for any thread count), making the batch's pictures (parallel), and the
// network and the decision (serial, in order; the network spreads a batch over the threads itself). Reading
// the next batch overlaps the pictures and the network of the previous ones, so both cores work.
// Memory is bounded: the flow table (live flows, buffered packets: flows::limits), plus at most
// `in_flight` batches of at most `batch` blocks and about `batch_packets` packets (their packets
// and pictures); flows without blocks leave nothing behind (docs/reliability.md).

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <oneapi/tbb/enumerable_thread_specific.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_pipeline.h>

#include "flowpic/backend/backend.hpp"
#include "flowpic/blocks/block.hpp"
#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/key_policy.hpp"
#include "flowpic/flows/sharded_table.hpp"
#include "flowpic/nn/executor/sparse.hpp"
#include "flowpic/nn/shape.hpp"
#include "flowpic/nn/sparse_input.hpp"
#include "flowpic/picture/histogram.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/pipeline/classification.hpp"
#include "flowpic/pipeline/decision.hpp"
#include "flowpic/source/any_source.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic {

namespace pipeline_detail {

// The policy kinds, recognised by what a type is (an index, 0: none).
enum kind : int { unknown, source_kind, flow_key_kind, window_kind, picture_kind, network_kind, backend_kind, decision_kind };

template <class P>
concept network_like = requires {
    { P::input_shape } -> std::convertible_to<nn::shape>;
    { P::output_shape } -> std::convertible_to<nn::shape>;
};
template <class P>
concept window_like = requires {
    { P::spec } -> std::convertible_to<blocks::window_spec>;
};

template <class P>
consteval kind kind_of() {
    if constexpr (network_like<P>) return network_kind;
    else if constexpr (source::packet_source<P>) return source_kind;
    else if constexpr (flows::key_policy<P>) return flow_key_kind;
    else if constexpr (window_like<P>) return window_kind;
    else if constexpr (picture::histogram_policy<P>) return picture_kind;
    else if constexpr (backend::backend_tag<P>) return backend_kind;
    else if constexpr (decision::decision_policy<P>) return decision_kind;
    else return unknown;
}

template <kind K, class... Ps>
inline constexpr std::size_t count = (std::size_t{0} + ... + (kind_of<Ps>() == K ? 1 : 0));

// The first policy of kind K among Ps, or Default.
template <kind K, class Default, class... Ps>
struct pick {
    using type = Default;
};
template <kind K, class Default, class P, class... Ps>
struct pick<K, Default, P, Ps...> {
    using type = std::conditional_t<kind_of<P>() == K, P, typename pick<K, Default, Ps...>::type>;
};

// Stands in for a missing network so that only the static_assert that says so fires.
struct no_network {
    static constexpr nn::shape input_shape{1, 1, 1};
    static constexpr nn::shape output_shape{1, 1, 1};
    template <class... A>
    void predict(A&&...) {}
};

}  // namespace pipeline_detail

template <class... Policies>
class pipeline {
    template <pipeline_detail::kind K, class Default>
    using pick = typename pipeline_detail::pick<K, Default, Policies...>::type;

    static_assert(((pipeline_detail::kind_of<Policies>() != pipeline_detail::unknown) && ...),
                  "flowpic::pipeline: every policy must be a network (nn::sequential<...>), a packet source, a flow "
                  "key policy (flows::unidirectional, bidirectional, all_flows), a blocks::window<...>, a "
                  "picture::histogram<...>, a backend tag (backend::scalar, simd, tbb) or a decision policy "
                  "(decision::per_block, majority_vote, mean_probability)");
    static_assert(pipeline_detail::count<pipeline_detail::network_kind, Policies...> != 0,
                  "flowpic::pipeline: the network is required: name it among the policies, e.g. "
                  "pipeline<nn::networks::mini_flowpic<5>, ...>");
    static_assert(pipeline_detail::count<pipeline_detail::network_kind, Policies...> <= 1,
                  "flowpic::pipeline: two networks given");
    static_assert(pipeline_detail::count<pipeline_detail::source_kind, Policies...> <= 1,
                  "flowpic::pipeline: two packet sources given");
    static_assert(pipeline_detail::count<pipeline_detail::flow_key_kind, Policies...> <= 1,
                  "flowpic::pipeline: two flow key policies given");
    static_assert(pipeline_detail::count<pipeline_detail::window_kind, Policies...> <= 1,
                  "flowpic::pipeline: two windowing policies (blocks::window<...>) given");
    static_assert(pipeline_detail::count<pipeline_detail::picture_kind, Policies...> <= 1,
                  "flowpic::pipeline: two picture policies (picture::histogram<...>) given");
    static_assert(pipeline_detail::count<pipeline_detail::backend_kind, Policies...> <= 1,
                  "flowpic::pipeline: two backends given");
    static_assert(pipeline_detail::count<pipeline_detail::decision_kind, Policies...> <= 1,
                  "flowpic::pipeline: two decision policies given");

    static constexpr bool has_network = pipeline_detail::count<pipeline_detail::network_kind, Policies...> != 0;
    using Source = pick<pipeline_detail::source_kind, source::any_source>;
    using Flows = pick<pipeline_detail::flow_key_kind, flows::unidirectional>;
    using Blocks = pick<pipeline_detail::window_kind, blocks::window<blocks::specs::shapira2019>>;
    using Picture = pick<pipeline_detail::picture_kind, picture::histogram<>>;
    using Network = pick<pipeline_detail::network_kind, pipeline_detail::no_network>;
    using Backend = pick<pipeline_detail::backend_kind, backend::default_backend>;
    using Decision = pick<pipeline_detail::decision_kind, decision::per_block>;
    using table_type = flows::sharded_table<Flows, blocks::windower>;

    static_assert(!has_network || (Network::input_shape.c == Picture::channel_count &&
                                   Network::input_shape.h == Picture::height && Network::input_shape.w == Picture::width),
                  "flowpic::pipeline: the network's input shape (channels x height x width) differs from the "
                  "pictures the Picture policy makes");

public:
    using source_type = Source;
    using flow_key_policy = Flows;
    using blocks_policy = Blocks;
    using picture_policy = Picture;
    using network = Network;
    using backend_type = Backend;
    using decision_type = Decision;
    // One output (a sigmoid: the probability of the second class) is reported as two classes.
    static constexpr std::size_t outputs = Network::output_shape.size();
    static constexpr std::size_t classes = outputs == 1 ? 2 : outputs;
    static constexpr std::size_t picture_size = Network::input_shape.size();
    // Large pictures go to a network that has sparse kernels as sparse batches (no dense picture
    // is ever made); the others, and every backend without the kernels, dense.
    static constexpr bool sparse_input = nn::prefers_sparse_input<Network> && nn::sparse_backend(Backend{});

    struct options {
        std::size_t batch = default_batch();  // blocks per network call (and per pipeline token)
        std::size_t in_flight = 3;            // batches alive at once: bounds memory
        // A batch closes early once its blocks hold this many packets (each block's packets are
        // copied into it): with in_flight, bounds what long, busy flows cost (16 B a packet).
        std::size_t batch_packets = std::size_t{1} << 20;
        flows::limits limits{};               // the flow table's bounds (idle timeout, live flows, packets)
        // Windows other than Blocks' (e.g. every 15 s window of a flow where the preset takes the
        // first): the picture policy stays the same, so the pictures stay the network's input.
        std::optional<blocks::window_spec> window{};
        // Per class: a result whose probability of its label is under its class's value is
        // marked unknown (mean probability for per-flow decisions). Empty: none.
        std::vector<float> min_score{};
        // Dense pictures and kernels even where the network reads sparse ones (sparse_input):
        // for comparisons; the results agree within float summation order.
        bool dense_input = false;
        // Ingest: packets read per step, and the flow table's shards (flows/sharded_table.hpp;
        // output does not depend on either). Live input: 1 packet, 1 shard (no waiting). 0 shards:
        // 16 where oneTBB may run more than 2 threads, else 1 (on 2 cores sharding costs more
        // than it saves: docs/benchmarks.md, "Ingest on every core").
        std::size_t ingest_chunk = std::size_t{1} << 14;
        std::size_t shards = 0;
    };

    // Batches of up to 32 pictures, fewer when they are large and dense (about 64 MiB of floats
    // per batch); sparse batches are small.
    static constexpr std::size_t default_batch() {
        if (sparse_input) return 32;
        constexpr std::size_t budget = std::size_t{64} << 20;
        return std::clamp<std::size_t>(budget / (picture_size * sizeof(float)), 1, 32);
    }

    explicit pipeline(Network& net, options o = {}) : net_(net), opt_(o) {
        if (opt_.batch == 0) opt_.batch = 1;
        if (opt_.in_flight == 0) opt_.in_flight = 1;
    }

    // Classifies every block of the source; calls sink(const classification&) for each result in
    // the order the blocks (per-flow decisions: the flows) complete.
    template <class Sink>
        requires std::invocable<Sink&, const classification&>
    pipeline_stats run(Source& src, Sink&& sink) {
        table_type table(opt_.limits, blocks::windower(opt_.window.value_or(Blocks::spec)), shard_count());
        reader rd(src, table, opt_.batch, std::max<std::size_t>(opt_.batch_packets, 1),
                  std::max<std::size_t>(opt_.ingest_chunk, 1));
        oneapi::tbb::enumerable_thread_specific<picture::maker<Picture, Backend>> makers;
        std::unordered_map<std::uint64_t, decision::tally> tallies;
        std::vector<float> mean(classes);
        pipeline_stats stats;

        auto read = [&](oneapi::tbb::flow_control& fc) -> std::shared_ptr<batch> {
            auto b = rd.next();
            if (!b) fc.stop();
            return b;
        };
        auto draw = [&](std::shared_ptr<batch> b) {
            auto& maker = makers.local();
            if constexpr (sparse_input) {
                if (!opt_.dense_input) {
                    picture::sparse_picture<typename picture::maker<Picture, Backend>::value_type> pic;
                    for (const auto& e : b->events) {
                        if (e.flow_end) continue;
                        maker.sparse(blocks::block{nullptr, e.packets, e.start_ns, e.end_ns, e.index}, pic);
                        b->sx.push_back(pic);
                    }
                    return b;
                }
            }
            b->x.resize(b->blocks * picture_size);
            std::size_t k = 0;
            for (const auto& e : b->events) {
                if (e.flow_end) continue;
                const blocks::block blk{nullptr, e.packets, e.start_ns, e.end_ns, e.index};
                const auto& pic = maker.dense(blk);
                std::copy(pic.data.begin(), pic.data.end(), b->x.begin() + static_cast<std::ptrdiff_t>(k * picture_size));
                ++k;
            }
            return b;
        };
        const auto below = [&](std::size_t label, float p) {
            return label < opt_.min_score.size() && p < opt_.min_score[label];
        };
        auto decide = [&](std::shared_ptr<batch> b) {
            std::vector<float> probs(b->blocks * classes);
            if (b->blocks > 0) {
                if (sparse_input && !opt_.dense_input) net_.predict(b->sx, probs.data(), Backend{});
                else net_.predict(b->x.data(), b->blocks, probs.data(), Backend{});
            }
            if constexpr (outputs == 1) {  // [p] -> [1 - p, p], from the back
                for (std::size_t i = b->blocks; i-- > 0;) {
                    const float p = probs[i];
                    probs[2 * i] = 1.0f - p;
                    probs[2 * i + 1] = p;
                }
            }
            std::size_t k = 0;
            for (const auto& e : b->events) {
                if (e.flow_end) {
                    if constexpr (Decision::per_flow) {
                        auto it = tallies.find(e.flow_id);
                        if (it == tallies.end()) continue;  // a flow without blocks
                        const auto& t = it->second;
                        const auto [label, score] = Decision::decide(t);
                        for (std::size_t c = 0; c < classes; ++c)
                            mean[c] = static_cast<float>(t.probability_sums[c] / double(t.blocks));
                        classification r{e.key, t.first_block_start_ns, t.first_block_index, t.blocks, t.packets, label,
                                         score, std::span<const float>(mean), below(label, mean[label])};
                        ++stats.results;
                        sink(std::as_const(r));
                        tallies.erase(it);
                    }
                    continue;
                }
                const std::span<const float> p(probs.data() + k * classes, classes);
                ++k;
                if constexpr (Decision::per_flow) {
                    tallies[e.flow_id].add(p, e.start_ns, e.index, e.packets.size());
                } else {
                    const auto label = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
                    classification r{e.key, e.start_ns, e.index, 1, e.packets.size(), label, p[label], p,
                                     below(label, p[label])};
                    ++stats.results;
                    sink(std::as_const(r));
                }
            }
        };
        oneapi::tbb::parallel_pipeline(
            opt_.in_flight,
            oneapi::tbb::make_filter<void, std::shared_ptr<batch>>(oneapi::tbb::filter_mode::serial_in_order, read) &
                oneapi::tbb::make_filter<std::shared_ptr<batch>, std::shared_ptr<batch>>(
                    oneapi::tbb::filter_mode::parallel, draw) &
                oneapi::tbb::make_filter<std::shared_ptr<batch>, void>(oneapi::tbb::filter_mode::serial_in_order,
                                                                       decide));
        const auto ts = table.stats();
        stats.packets = ts.packets;
        stats.flows = ts.flows;
        blocks::window_stats ws;  // the shards' added (peak: the sum of the shards' peaks)
        table.for_each_shard([&](const auto& shard) {
            const auto& w = shard.stage().stats();
            ws.blocks += w.blocks;
            ws.peak_buffered_packets += w.peak_buffered_packets;
            ws.late_packets += w.late_packets;
            ws.evicted_windows += w.evicted_windows;
            ws.evicted_packets += w.evicted_packets;
        });
        stats.blocks = ws.blocks;
        stats.peak_buffered_packets = ws.peak_buffered_packets;
        stats.backwards = ts.backwards;
        stats.late_packets = ws.late_packets;
        stats.evicted_max_flows = ts.evicted_max_flows;
        stats.evicted_max_packets = ts.evicted_max_packets;
        stats.evicted_windows = ws.evicted_windows;
        stats.evicted_packets = ws.evicted_packets;
        return stats;
    }

    [[nodiscard]] const options& settings() const noexcept { return opt_; }
    // The flow table's shards as run() will use them (options::shards, 0 resolved).
    [[nodiscard]] std::size_t shard_count() const noexcept {
        if (opt_.shards > 0) return opt_.shards;
        const auto threads = oneapi::tbb::global_control::active_value(oneapi::tbb::global_control::max_allowed_parallelism);
        return threads > 2 ? table_type::default_shards : 1;
    }
    // The network it runs (e.g. to copy it for a second pipeline on other threads).
    [[nodiscard]] Network& net() const noexcept { return net_; }

private:
    // A completed block (its packets copied: the flow table reuses its buffers) or a flow's end.
    struct event {
        flow_key key;
        std::uint64_t flow_id = 0;
        std::int64_t start_ns = 0, end_ns = 0;
        std::uint64_t index = 0;
        std::vector<packet> packets;
        bool flow_end = false;
    };
    struct batch {
        std::vector<event> events;
        std::size_t blocks = 0;
        std::vector<float> x;     // dense pictures, or
        nn::sparse_batch sx;      // sparse ones (sparse_input)
    };

    // Pulls packets until a batch of blocks is complete; flow ends travel in order with them.
    struct reader {
        reader(Source& s, table_type& t, std::size_t b, std::size_t bp, std::size_t cp)
            : src(s), table(t), batch_size(b), batch_packets(bp), chunk_packets(cp) {}
        Source& src;
        table_type& table;
        std::size_t batch_size;
        std::size_t batch_packets;
        std::size_t chunk_packets;
        typename table_type::chunk chunk;
        std::uint64_t read = 0;
        std::deque<event> pending;  // completed, not yet handed out
        std::size_t pending_blocks = 0;
        std::size_t pending_packets = 0;
        std::unordered_set<std::uint64_t> with_blocks;  // live flows with a block (per-flow decisions)
        bool done = false;

        void on_block(const blocks::block& b) {
            event e;
            e.key = b.owner ? b.owner->key : flow_key{};
            e.flow_id = b.owner ? b.owner->id : 0;
            e.start_ns = b.window_start_ns;
            e.end_ns = b.window_end_ns;
            e.index = b.index;
            e.packets.assign(b.packets.begin(), b.packets.end());
            if constexpr (Decision::per_flow) with_blocks.insert(e.flow_id);
            pending_packets += e.packets.size();
            pending.push_back(std::move(e));
            ++pending_blocks;
        }
        void on_flow_end(const flows::flow& f, flows::end_reason) {
            // only a per-flow decision reads flow ends, and only of flows with blocks: the others
            // would wait here for the next batch, a million flows without blocks a million events
            if constexpr (!Decision::per_flow) return;
            if (with_blocks.erase(f.id) == 0) return;
            event e;
            e.key = f.key;
            e.flow_id = f.id;
            e.flow_end = true;
            pending.push_back(std::move(e));
        }
        std::shared_ptr<batch> next() {
            while (!done && pending_blocks < batch_size && pending_packets < batch_packets) {
                chunk.packets.resize(chunk_packets);
                bool ended = false;
                const std::size_t n = source::read_chunk(src, chunk.packets.data(), chunk_packets, ended);
                chunk.packets.resize(n);
                chunk.base = read;
                read += n;
                if (n > 0) table.add(chunk, *this);
                if (ended) {
                    table.finish(*this);
                    done = true;
                }
            }
            if (pending.empty()) return nullptr;
            auto b = std::make_shared<batch>();
            // flow ends right after the batch's last block belong to it (their results come sooner)
            std::size_t packets = 0;
            while (!pending.empty() &&
                   ((b->blocks < batch_size && (b->blocks == 0 || packets < batch_packets)) || pending.front().flow_end)) {
                event& e = pending.front();
                if (!e.flow_end) {
                    ++b->blocks;
                    --pending_blocks;
                    packets += e.packets.size();
                    pending_packets -= e.packets.size();
                }
                b->events.push_back(std::move(e));
                pending.pop_front();
            }
            return b;
        }
    };

    Network& net_;
    options opt_;
};

}  // namespace flowpic
