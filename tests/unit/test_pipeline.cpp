// The composed pipeline against the stages run by hand: every block of a real capture is reported
// once, in completion order, with the key, window start and probabilities that the flow table,
// the picture maker and the network's scalar oracle give it; batch size, pipeline depth and thread
// count change nothing; per-flow decisions equal their definitions over the per-block results.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <oneapi/tbb/global_control.h>

#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/nn/networks.hpp"
#include "flowpic/picture/maker.hpp"
#include "flowpic/presets/networks.hpp"
#include "flowpic/presets/pipeline.hpp"
#include "flowpic/source/any_source.hpp"
#include "flowpic/source/flow_records.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;

namespace {

using P = presets::mini_flowpic;
using net_t = nn::networks::mini_flowpic<5>;

struct row {
    flow_key key;
    std::int64_t start = 0;
    std::uint64_t index = 0, packets = 0;
    std::uint32_t blocks = 0;
    std::size_t label = 0;
    float score = 0;
    std::vector<float> probs;
};

// The stages by hand: blocks in completion order, each picture through the scalar network.
std::vector<row> by_hand(const std::string& path, net_t& net) {
    source::flow_records src(path);
    blocks::windowed_table<P::flow_key> table({}, P::window);
    picture::maker<P::picture, backend::scalar> maker;
    std::vector<row> out;
    flows::callback_sink sink{[&](const blocks::block& b) {
                                  const auto& pic = maker.dense(b);
                                  std::vector<float> x(pic.data.begin(), pic.data.end()), p(5);
                                  net.predict(x.data(), 1, p.data(), flowpic::backend::scalar{});
                                  row r{b.owner->key, b.window_start_ns, b.index, b.packets.size(), 1, 0, 0, p};
                                  r.label = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
                                  r.score = p[r.label];
                                  out.push_back(std::move(r));
                              },
                              flows::ignore{}};
    table.consume(src, sink);
    return out;
}

template <class Backend, class Decision = decision::per_block>
std::vector<row> by_pipeline(const std::string& path, net_t& net, std::size_t batch, std::size_t in_flight,
                             std::size_t shards = 16, std::size_t chunk = std::size_t{1} << 14) {
    source::flow_records records(path);
    source::any_source src(records);  // as the tool runs it
    using pipe_t = preset_pipeline<P, net_t, source::any_source, Backend, Decision>;
    typename pipe_t::options o;
    o.batch = batch;
    o.in_flight = in_flight;
    o.shards = shards;
    o.ingest_chunk = chunk;
    std::vector<row> out;
    const auto stats = pipe_t(net, o).run(src, [&](const classification& c) {
        out.push_back({c.key, c.block_start_ns, c.block_index, c.packets, c.blocks, c.label, c.score,
                       std::vector<float>(c.probabilities.begin(), c.probabilities.end())});
    });
    CHECK(stats.results == out.size());
    CHECK(stats.packets == records.packet_count());
    return out;
}

void check_equal(const std::vector<row>& a, const std::vector<row>& b, float tol) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(i);
        CHECK(a[i].key == b[i].key);
        CHECK(a[i].start == b[i].start);
        CHECK(a[i].index == b[i].index);
        CHECK(a[i].packets == b[i].packets);
        REQUIRE(a[i].probs.size() == b[i].probs.size());
        for (std::size_t c = 0; c < a[i].probs.size(); ++c) CHECK(std::abs(a[i].probs[c] - b[i].probs[c]) <= tol);
        if (tol == 0) CHECK(a[i].label == b[i].label);
    }
}

const std::string capture = test::repo("data/lab/dataset/voip/voip-plain-0.fpr");

}  // namespace

TEST_CASE("pipeline: every block once, in order, as the stages run by hand give it") {
    net_t net(nn::init_scheme::kaiming_uniform, 21);
    const auto want = by_hand(capture, net);
    REQUIRE(want.size() > 20);
    // scalar backend: the same arithmetic, so the same bits
    check_equal(by_pipeline<backend::scalar>(capture, net, 7, 3), want, 0.0f);
    // fast kernels: float sums in another order
    check_equal(by_pipeline<backend::tbb>(capture, net, 32, 3), want, 1e-5f);
}

TEST_CASE("pipeline: batch size, depth and threads change nothing") {
    net_t net(nn::init_scheme::kaiming_uniform, 22);
    const auto ref = by_pipeline<backend::tbb>(capture, net, 32, 3);
    check_equal(by_pipeline<backend::tbb>(capture, net, 1, 1), ref, 0.0f);
    check_equal(by_pipeline<backend::tbb>(capture, net, 5, 8), ref, 0.0f);
    oneapi::tbb::global_control one(oneapi::tbb::global_control::max_allowed_parallelism, 1);
    check_equal(by_pipeline<backend::tbb>(capture, net, 32, 3), ref, 0.0f);
}

TEST_CASE("pipeline: the flow table's shards and ingest chunks change nothing (one table, packet by packet, the oracle)") {
    net_t net(nn::init_scheme::kaiming_uniform, 26);
    const auto ref = by_pipeline<backend::tbb>(capture, net, 32, 3, 1, 1);
    REQUIRE(ref.size() > 20);
    check_equal(by_pipeline<backend::tbb>(capture, net, 32, 3, 16, 1), ref, 0.0f);
    check_equal(by_pipeline<backend::tbb>(capture, net, 32, 3, 16, 100), ref, 0.0f);
    check_equal(by_pipeline<backend::tbb>(capture, net, 7, 3, 5, 1u << 16), ref, 0.0f);
    const auto flows_ref = by_pipeline<backend::tbb, decision::mean_probability>(capture, net, 32, 3, 1, 1);
    check_equal(by_pipeline<backend::tbb, decision::mean_probability>(capture, net, 32, 3, 16, 1000), flows_ref, 0.0f);
    oneapi::tbb::global_control one(oneapi::tbb::global_control::max_allowed_parallelism, 1);
    check_equal(by_pipeline<backend::tbb>(capture, net, 32, 3, 16, 100), ref, 0.0f);
}

TEST_CASE("pipeline: per-flow decisions are the majority and the mean over the flow's blocks") {
    net_t net(nn::init_scheme::kaiming_uniform, 23);
    const auto blocks = by_pipeline<backend::tbb>(capture, net, 16, 3);
    std::map<std::pair<std::string, std::uint16_t>, std::vector<const row*>> per_flow;  // key -> its blocks
    auto id = [](const flow_key& k) { return std::make_pair(k.src.str() + ">" + k.dst.str() + ":" + std::to_string(k.dport), k.sport); };
    for (const auto& b : blocks) per_flow[id(b.key)].push_back(&b);
    const auto majority = by_pipeline<backend::tbb, decision::majority_vote>(capture, net, 16, 3);
    const auto mean = by_pipeline<backend::tbb, decision::mean_probability>(capture, net, 16, 3);
    REQUIRE(majority.size() == per_flow.size());
    REQUIRE(mean.size() == per_flow.size());
    for (std::size_t i = 0; i < majority.size(); ++i) {
        const auto& bs = per_flow.at(id(majority[i].key));
        std::vector<std::uint32_t> votes(5, 0);
        std::vector<double> sums(5, 0.0);
        for (const auto* b : bs) {
            ++votes[b->label];
            for (std::size_t c = 0; c < 5; ++c) sums[c] += b->probs[c];
        }
        const auto vote = static_cast<std::size_t>(std::max_element(votes.begin(), votes.end()) - votes.begin());
        const auto best = static_cast<std::size_t>(std::max_element(sums.begin(), sums.end()) - sums.begin());
        CHECK(majority[i].blocks == bs.size());
        CHECK(majority[i].label == vote);
        CHECK(majority[i].score == doctest::Approx(double(votes[vote]) / double(bs.size())));
        CHECK(majority[i].start == bs.front()->start);
        CHECK(mean[i].key == majority[i].key);
        CHECK(mean[i].label == best);
        CHECK(mean[i].score == doctest::Approx(sums[best] / double(bs.size())).epsilon(1e-6));
    }
}

TEST_CASE("pipeline: a capture file through the flow table's bounds still reports every block") {
    net_t net(nn::init_scheme::kaiming_uniform, 24);
    source::pcap_file<> pcap(test::repo("data/sample/sample.pcap"));
    using pipe_t = preset_pipeline<P, net_t, source::pcap_file<>>;
    pipe_t::options o;
    o.limits.max_flows = 2;  // evictions end flows early; their first windows are still complete
    std::size_t n = 0;
    const auto stats = pipe_t(net, o).run(pcap, [&](const classification& c) {
        CHECK(c.probabilities.size() == 5);
        CHECK(c.score == c.probabilities[c.label]);
        ++n;
    });
    CHECK(n == stats.blocks);
    CHECK(n > 0);
}

TEST_CASE("pipeline: policies named in any order, the others defaulted; preset_pipeline is one of them") {
    using named = pipeline<P::picture, decision::per_block, source::any_source, blocks::window<P::window>, net_t,
                           P::flow_key>;
    using preset = preset_pipeline<P, net_t, source::any_source>;
    static_assert(std::is_same_v<named::source_type, preset::source_type>);
    static_assert(std::is_same_v<named::flow_key_policy, preset::flow_key_policy>);
    static_assert(std::is_same_v<named::blocks_policy, preset::blocks_policy>);
    static_assert(std::is_same_v<named::picture_policy, preset::picture_policy>);
    static_assert(std::is_same_v<named::network, preset::network>);
    static_assert(std::is_same_v<named::backend_type, preset::backend_type>);
    static_assert(std::is_same_v<named::decision_type, preset::decision_type>);

    using defaults = pipeline<nn::networks::shapira2019<3>>;
    static_assert(std::is_same_v<defaults::source_type, source::any_source>);
    static_assert(std::is_same_v<defaults::flow_key_policy, flows::unidirectional>);
    static_assert(defaults::blocks_policy::spec == blocks::specs::shapira2019);
    static_assert(std::is_same_v<defaults::picture_policy, picture::histogram<>>);
    static_assert(std::is_same_v<defaults::backend_type, backend::tbb>);
    static_assert(std::is_same_v<defaults::decision_type, decision::per_block>);
    static_assert(defaults::classes == 3);

    using network_stats = presets::network_stats;
    using all = preset_pipeline<network_stats, presets::network_t<network_stats, 2>, source::pcap_file<>>;
    static_assert(std::is_same_v<all::flow_key_policy, flows::all_flows>);
    static_assert(std::is_same_v<all::source_type, source::pcap_file<>>);

    net_t net(nn::init_scheme::kaiming_uniform, 25);
    source::flow_records records(capture);
    source::any_source src(records);
    std::vector<row> got;
    named(net).run(src, [&](const classification& c) {
        got.push_back({c.key, c.block_start_ns, c.block_index, c.packets, c.blocks, c.label, c.score,
                       std::vector<float>(c.probabilities.begin(), c.probabilities.end())});
    });
    check_equal(got, by_pipeline<backend::tbb>(capture, net, named::default_batch(), 3), 0.0f);
}

TEST_CASE("pipeline: 1500x1500 pictures go to the network sparse, with the dense kernels' results") {
    using S = presets::shapira2019;
    using snet_t = nn::networks::shapira2019<5>;
    using pipe_t = preset_pipeline<S, snet_t, source::any_source>;
    static_assert(pipe_t::sparse_input);
    snet_t net(nn::init_scheme::kaiming_uniform, 25);
    auto p = net.params();
    nn::rng r(3);
    for (const auto& t : snet_t::tensors())  // biases of both signs: ReLUs that keep or kill the empty regions
        if (t.info.role == "bias")
            for (std::size_t i = 0; i < t.info.size(); ++i) p[t.offset + i] = static_cast<float>(r.uniform(-0.2, 0.2));
    auto run = [&](bool dense) {
        source::flow_records records(capture);
        source::any_source src(records);
        pipe_t::options o;
        o.window = blocks::window_spec{.length_ns = 5'000'000'000};  // more, shorter blocks
        o.dense_input = dense;
        std::vector<row> out;
        pipe_t(net, o).run(src, [&](const classification& c) {
            out.push_back({c.key, c.block_start_ns, c.block_index, c.packets, c.blocks, c.label, c.score,
                           std::vector<float>(c.probabilities.begin(), c.probabilities.end())});
        });
        return out;
    };
    const auto dense = run(true);
    REQUIRE(dense.size() > 5);
    check_equal(run(false), dense, 1e-5f);
}
