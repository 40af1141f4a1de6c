// The flow table and its streaming windows against brute-force oracles written for clarity, on
// random flows and random window policies.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <type_traits>
#include <vector>

#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"

using namespace flowpic;

namespace {

flow_key key_of(std::uint8_t a, std::uint8_t b, std::uint16_t sp, std::uint16_t dp, std::uint8_t proto = 17) {
    const std::uint8_t x[4] = {10, 0, 0, a};
    const std::uint8_t y[4] = {10, 0, 0, b};
    flow_key k;
    k.src = ip_address::v4(x);
    k.dst = ip_address::v4(y);
    k.sport = sp;
    k.dport = dp;
    k.proto = proto;
    return k;
}

keyed_packet pkt(const flow_key& k, std::int64_t t, std::uint32_t size = 100) {
    keyed_packet kp;
    kp.key = k;
    kp.pkt.time_ns = t;
    kp.pkt.size = size;
    return kp;
}

struct seen_block {
    std::uint64_t index;
    std::int64_t start;
    std::size_t n;
    std::int64_t first, last;
    auto operator<=>(const seen_block&) const = default;
};

// The windows a flow with these packet times yields, computed over the whole flow at once.
std::vector<seen_block> oracle(const std::vector<std::int64_t>& ts, const blocks::window_spec& w) {
    std::vector<seen_block> out;
    if (ts.size() < w.min_flow_packets) return out;
    const std::int64_t first = ts.front(), last = ts.back();
    const std::int64_t s = w.stride();
    // only windows that hold a packet can yield a block: window k holds t iff
    // k * s <= t - first and k * s + L (>|>=) t - first
    std::set<std::uint64_t> candidates;
    for (auto t : ts) {
        const std::int64_t off = t - first;
        for (std::int64_t k = off / s; k >= 0; --k) {
            const std::int64_t end = k * s + w.length_ns;
            if (w.inclusive_end ? end < off : end <= off) break;
            candidates.insert(static_cast<std::uint64_t>(k));
        }
    }
    for (std::uint64_t k : candidates) {
        const std::int64_t start = first + static_cast<std::int64_t>(k) * s;
        const std::int64_t end = start + w.length_ns;
        if (start > last) break;
        if (w.first_only && k > 0) break;
        bool emitted = end <= last;  // complete
        if (w.ends == blocks::end_rule::any) emitted = true;
        if (w.ends == blocks::end_rule::authors && k == 0 && last - first > w.length_ns - s) emitted = true;
        if (!emitted) continue;
        std::vector<std::int64_t> in;
        for (auto t : ts)
            if (t >= start && (w.inclusive_end ? t <= end : t < end)) in.push_back(t);
        if (in.empty() || in.size() < w.min_packets) continue;
        if (in.back() - in.front() < w.min_span_ns) continue;
        out.push_back({k, start, in.size(), in.front(), in.back()});
    }
    return out;
}

}  // namespace

TEST_CASE("streaming windows equal the whole-flow oracle for random flows and policies") {
    std::mt19937_64 rng(20261123);
    for (int trial = 0; trial < 400; ++trial) {
        // a flow with bursts, long gaps and packets exactly on window edges
        std::vector<std::int64_t> ts;
        std::int64_t t = 1'600'000'000LL * ns_per_second + static_cast<std::int64_t>(rng() % ns_per_second);
        const int n = 1 + static_cast<int>(rng() % 300);
        for (int i = 0; i < n; ++i) {
            ts.push_back(t);
            const auto r = rng() % 100;
            if (r < 60) t += static_cast<std::int64_t>(rng() % 200'000'000);          // < 0.2 s
            else if (r < 90) t += static_cast<std::int64_t>(rng() % 5'000'000'000);  // < 5 s
            else if (r < 94) t += static_cast<std::int64_t>(rng() % 120) * ns_per_second;  // long gap
            else if (r < 95) t += static_cast<std::int64_t>(rng() % (1ULL << 28)) * ns_per_second;  // clock jump: years
            // else: same instant
        }
        blocks::window_spec w;
        const std::int64_t lengths[] = {1, 5, 15, 60};
        w.length_ns = lengths[rng() % 4] * ns_per_second;
        const auto sr = rng() % 3;
        w.stride_ns = sr == 0 ? 0 : sr == 1 ? w.length_ns / 4 : w.length_ns / 2;
        w.min_packets = static_cast<std::uint32_t>(rng() % 12);
        w.min_span_ns = (rng() % 3 == 0) ? w.length_ns / 2 : 0;
        w.inclusive_end = rng() % 2;
        w.ends = static_cast<blocks::end_rule>(rng() % 3);
        w.first_only = rng() % 6 == 0;
        w.min_flow_packets = rng() % 4 == 0 ? static_cast<std::uint32_t>(rng() % 40) : 0;
        // put some packets exactly on window edges
        if (trial % 3 == 0) {
            const std::int64_t s = w.stride();
            for (std::size_t i = 1; i < ts.size(); ++i)
                if (rng() % 4 == 0) ts[i] = std::max(ts[i - 1], ts[0] + ((ts[i] - ts[0]) / s) * s);
            std::sort(ts.begin(), ts.end());
        }

        blocks::windowed_table<> table({}, w);
        std::vector<seen_block> got;
        flows::callback_sink out{[&](const blocks::block& b) {
                                     got.push_back({b.index, b.window_start_ns, b.packets.size(),
                                                    b.packets.front().time_ns, b.packets.back().time_ns});
                                 },
                                 flows::ignore{}};
        const auto k = key_of(1, 2, 1000, 443);
        for (auto x : ts) table.add(pkt(k, x), out);
        table.finish(out);
        const auto want = oracle(ts, w);
        CAPTURE(trial);
        CAPTURE(w.length_ns);
        CAPTURE(w.stride_ns);
        CAPTURE(static_cast<int>(w.ends));
        CAPTURE(w.inclusive_end);
        CAPTURE(w.first_only);
        CAPTURE(w.min_flow_packets);
        REQUIRE(got == want);
        CHECK(table.buffered_packets() == 0);
    }
}

TEST_CASE("the reference converter's windows: window 0 is kept for flows a little shorter than a block") {
    // 60 s blocks every 15 s: a 50 s flow yields window 0 (int(50/15 - 4) + 1 = 1), a 40 s one none
    for (auto [dur, expect] : {std::pair{50, 1}, std::pair{40, 0}, std::pair{75, 2}}) {
        blocks::windowed_table<> table({}, blocks::window_spec{blocks::seconds(60), blocks::seconds(15), 1, 0, true,
                                                          blocks::end_rule::authors, false});
        int blocks_seen = 0;
        flows::callback_sink out{[&](const blocks::block&) { ++blocks_seen; }, flows::ignore{}};
        const auto k = key_of(1, 2, 1, 2);
        for (int s = 0; s <= dur; ++s) table.add(pkt(k, s * ns_per_second), out);
        table.finish(out);
        CAPTURE(dur);
        CHECK(blocks_seen == expect);
    }
}

TEST_CASE("shapira2019's sessions of >= 20 packets: windows held until the count, none for 19") {
    // Flow a: 19 packets over 130 s (two complete windows' worth); flow b: 20 packets, its 20th
    // at 125 s, after its windows 0 and 1 closed; flow c: 40 packets, windows released as usual.
    const auto a = key_of(1, 2, 1000, 443), b = key_of(3, 4, 1001, 443), c = key_of(5, 6, 1002, 443);
    std::vector<keyed_packet> in;
    const std::int64_t t0 = 1'600'000'000LL * ns_per_second;
    for (int i = 0; i < 19; ++i) in.push_back(pkt(a, t0 + i * blocks::seconds(130.0 / 18)));
    for (int i = 0; i < 19; ++i) in.push_back(pkt(b, t0 + 1 + i * blocks::seconds(121.0 / 18)));
    in.push_back(pkt(b, t0 + blocks::seconds(125)));
    for (int i = 0; i < 40; ++i) in.push_back(pkt(c, t0 + 2 + i * blocks::seconds(3.2)));
    std::stable_sort(in.begin(), in.end(),
                     [](const keyed_packet& x, const keyed_packet& y) { return x.pkt.time_ns < y.pkt.time_ns; });

    blocks::window_spec w = blocks::specs::shapira2019;
    REQUIRE(w.min_flow_packets == 20);
    w.min_packets = 1;  // every window counts, so that the holding shows
    w.min_span_ns = 0;
    for (int pass = 0; pass < 2; ++pass) {  // deterministic: the same blocks in the same order twice
        blocks::windowed_table<> table({}, w);
        std::vector<std::pair<std::uint16_t, std::uint64_t>> got;  // (flow's source port, window)
        std::vector<std::int64_t> at;                               // the time of the packet that released it
        std::int64_t now = 0;
        flows::callback_sink out{[&](const blocks::block& blk) {
                                     got.emplace_back(blk.owner->key.sport, blk.index);
                                     at.push_back(now);
                                 },
                                 flows::ignore{}};
        for (const auto& kp : in) {
            now = kp.pkt.time_ns;
            table.add(kp, out);
        }
        now = -1;
        table.finish(out);
        // c's window 0 closes at its first packet past 60 s; b's windows 0 and 1 wait for its
        // 20th packet at 125 s; c's window 1 closes at 121.6 s, before b's release; a: nothing
        const std::vector<std::pair<std::uint16_t, std::uint64_t>> want{{1002, 0}, {1002, 1}, {1001, 0}, {1001, 1}};
        CHECK(got == want);
        REQUIRE(at.size() == 4);
        CHECK(at[2] == t0 + blocks::seconds(125));
        CHECK(at[3] == t0 + blocks::seconds(125));
        CHECK(table.buffered_packets() == 0);
    }
    // with the rule off, a's windows come out too
    w.min_flow_packets = 0;
    blocks::windowed_table<> table({}, w);
    int from_a = 0;
    flows::callback_sink out{[&](const blocks::block& blk) { from_a += blk.owner->key.sport == 1000; }, flows::ignore{}};
    for (const auto& kp : in) table.add(kp, out);
    table.finish(out);
    CHECK(from_a == 2);
}

TEST_CASE("unidirectional and bidirectional keys") {
    const auto ab = key_of(1, 2, 5000, 443, 6);
    const auto ba = ab.reversed();
    std::vector<keyed_packet> in = {pkt(ab, 1), pkt(ba, 2), pkt(ab, 3), pkt(ba, 4), pkt(ba, 5)};
    {
        flows::flow_table<flows::unidirectional> table;
        std::vector<std::pair<flow_key, std::uint64_t>> flows_seen;
        flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason r) {
                                     CHECK(r == flows::end_reason::end_of_input);
                                     flows_seen.emplace_back(f.key, f.packets);
                                 }};
        for (auto& p : in) table.add(p, out);
        table.finish(out);
        REQUIRE(flows_seen.size() == 2);
        CHECK(flows_seen[0] == std::pair{ab, std::uint64_t{2}});
        CHECK(flows_seen[1] == std::pair{ba, std::uint64_t{3}});
    }
    {
        blocks::windowed_table<flows::bidirectional> table({}, blocks::specs::whole_flow);
        std::vector<direction> dirs;
        flow_key k;
        flows::callback_sink out{[&](const blocks::block& b) {
                                     for (auto& p : b.packets) dirs.push_back(p.dir);
                                 },
                                 [&](const flows::flow& f, flows::end_reason) { k = f.key; }};
        for (auto& p : in) table.add(p, out);
        table.finish(out);
        CHECK(k == ab);  // oriented as the first packet's sender
        CHECK(dirs == std::vector<direction>{direction::forward, direction::reverse, direction::forward,
                                             direction::reverse, direction::reverse});
    }
    {   // a source that knows the client orients the flow client -> server even if the server speaks first
        blocks::windowed_table<flows::bidirectional> table({}, blocks::specs::whole_flow);
        keyed_packet down = pkt(ba, 1);
        down.direction_known = true;
        down.pkt.dir = direction::reverse;
        keyed_packet up = pkt(ab, 2);
        up.direction_known = true;
        flow_key k;
        std::vector<direction> dirs;
        flows::callback_sink out{[&](const blocks::block& b) {
                                     for (auto& p : b.packets) dirs.push_back(p.dir);
                                 },
                                 [&](const flows::flow& f, flows::end_reason) { k = f.key; }};
        table.add(down, out);
        table.add(up, out);
        table.finish(out);
        CHECK(k == ab);
        CHECK(dirs == std::vector<direction>{direction::reverse, direction::forward});
    }
}

TEST_CASE("idle timeout ends a flow; the same key then starts a new one") {
    flows::flow_table<> table(flows::limits{blocks::seconds(30), 0, 0});
    std::vector<std::tuple<std::uint64_t, std::uint64_t, flows::end_reason>> ended;
    flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason r) {
                                 ended.emplace_back(f.id, f.packets, r);
                             }};
    const auto a = key_of(1, 2, 1, 2), b = key_of(3, 4, 1, 2);
    table.add(pkt(a, 0), out);
    table.add(pkt(a, 10 * ns_per_second), out);
    table.add(pkt(b, 20 * ns_per_second), out);
    table.add(pkt(b, 45 * ns_per_second), out);  // a idle for 35 s > 30: ends here
    REQUIRE(ended.size() == 1);
    CHECK(ended[0] == std::tuple{std::uint64_t{0}, std::uint64_t{2}, flows::end_reason::idle_timeout});
    table.add(pkt(a, 50 * ns_per_second), out);  // a new flow with the old key
    table.finish(out);
    REQUIRE(ended.size() == 3);
    CHECK(ended[1] == std::tuple{std::uint64_t{1}, std::uint64_t{2}, flows::end_reason::end_of_input});
    CHECK(ended[2] == std::tuple{std::uint64_t{2}, std::uint64_t{1}, flows::end_reason::end_of_input});
    CHECK(table.stats().idle_ended == 1);
}

TEST_CASE("bounds on live flows and buffered packets evict the least recently active flows") {
    std::mt19937 rng(7);
    const std::size_t max_flows = 8, max_packets = 200;
    blocks::windowed_table<> table(flows::limits{0, max_flows, max_packets}, blocks::specs::counted15);
    std::uint64_t packets_out = 0, evicted = 0;
    flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason r) {
                                 packets_out += f.packets;
                                 if (r == flows::end_reason::evicted) ++evicted;
                             }};
    std::int64_t t = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        t += 1'000'000;
        table.add(pkt(key_of(1, static_cast<std::uint8_t>(rng() % 40), 1, 2), t), out);
        REQUIRE(table.live_flows() <= max_flows);
        REQUIRE(table.buffered_packets() <= max_packets);
    }
    table.finish(out);
    CHECK(packets_out == static_cast<std::uint64_t>(n));  // every packet is accounted for exactly once
    CHECK(evicted > 0);
    CHECK(table.stats().peak_live_flows == max_flows);
}

TEST_CASE("many flows with churn: counts equal a std::map oracle") {
    std::mt19937_64 rng(99);
    flows::flow_table<> table(flows::limits{blocks::seconds(1), 0, 0});
    std::uint64_t total = 0;
    flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) { total += f.packets; }};
    std::map<std::pair<std::uint32_t, std::uint16_t>, std::int64_t> last_seen;
    std::uint64_t expected_flows = 0;
    std::int64_t t = 0;
    for (int i = 0; i < 200000; ++i) {
        t += 20'000;  // 50 k packets/s
        const auto host = static_cast<std::uint32_t>(rng() % 5000);
        const auto port = static_cast<std::uint16_t>(rng() % 3);
        flow_key k = key_of(static_cast<std::uint8_t>(host & 0xff), static_cast<std::uint8_t>(host >> 8), port, 80);
        auto it = last_seen.find({host, port});
        if (it == last_seen.end() || t - it->second > ns_per_second) ++expected_flows;
        last_seen[{host, port}] = t;
        table.add(pkt(k, t), out);
    }
    table.finish(out);
    CHECK(total == 200000);
    CHECK(table.stats().flows == expected_flows);
}

TEST_CASE("all_flows: one flow of every packet, each direction within its own connection") {
    const auto ab = key_of(1, 2, 5000, 443, 6), cd = key_of(3, 4, 53, 6000, 17);
    std::vector<keyed_packet> in = {pkt(ab, 1), pkt(cd.reversed(), 2), pkt(ab.reversed(), 3), pkt(cd, 4), pkt(ab, 5)};
    in[3].direction_known = true;  // a source that knows the side keeps its direction
    in[3].pkt.dir = direction::reverse;
    blocks::windowed_table<flows::all_flows> table({}, blocks::specs::whole_flow);
    std::vector<direction> dirs;
    std::vector<flows::flow> ended;
    flows::callback_sink out{[&](const blocks::block& b) {
                                 for (auto& p : b.packets) dirs.push_back(p.dir);
                             },
                             [&](const flows::flow& f, flows::end_reason) { ended.push_back(f); }};
    for (auto& p : in) table.add(p, out);
    table.finish(out);
    REQUIRE(ended.size() == 1);
    CHECK(ended[0].key == flow_key{});
    CHECK(ended[0].packets == 5);
    CHECK(ended[0].first_ns == 1);
    CHECK(ended[0].last_ns == 5);
    CHECK(dirs == std::vector<direction>{direction::forward, direction::forward, direction::reverse,
                                         direction::reverse, direction::forward});
    CHECK(table.stats().flows == 1);
    static_assert(flows::key_policy<flows::all_flows> && !flows::all_flows::keyed);
}

TEST_CASE("a bare flow table only groups and counts: no packet is held") {
    flows::flow_table<flows::bidirectional> table;
    static_assert(std::is_same_v<decltype(table)::stage_type, flows::no_stage>);
    std::uint64_t n = 0;
    flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) { n += f.packets; }};
    for (int i = 0; i < 100; ++i) table.add(pkt(key_of(1, 2, static_cast<std::uint16_t>(i % 7), 80), i), out);
    CHECK(table.buffered_packets() == 0);
    table.finish(out);
    CHECK(n == 100);
    CHECK(table.stats().flows == 7);
}
