// flows::sharded_table against one flows::flow_table as the oracle: the same ended flows and
// blocks, in the same order, with the same ids, for any shard count, chunk size and thread count;
// with limits (idle timeout, max_flows, max_packets) it keeps one shard and stays exact.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/flows/sharded_table.hpp"
#include "flowpic/source/memory.hpp"

using namespace flowpic;

namespace {

// Every event as text: what a sink saw, in order.
struct log_sink {
    std::vector<std::string> lines;
    static std::string flow_text(const flows::flow& f) {
        return std::to_string(f.id) + " " + f.key.src.str() + ">" + f.key.dst.str() + ":" + std::to_string(f.key.sport) +
               ":" + std::to_string(f.key.dport) + " n=" + std::to_string(f.packets) + " b=" + std::to_string(f.bytes) +
               " " + std::to_string(f.first_ns) + ".." + std::to_string(f.last_ns);
    }
    // appended piece by piece: g++ 12 -O3 sees a false overlap in "literal" + std::string&& (-Wrestrict)
    void on_flow_end(const flows::flow& f, flows::end_reason r) {
        std::string s = "end ";
        s += flow_text(f);
        s += " why=";
        s += std::to_string(static_cast<int>(r));
        lines.push_back(std::move(s));
    }
    void on_block(const blocks::block& b) {
        std::string s = "block ";
        s += flow_text(*b.owner);
        s += " k=";
        s += std::to_string(b.index);
        s += " [";
        s += std::to_string(b.window_start_ns);
        s += ',';
        s += std::to_string(b.window_end_ns);
        s += ')';
        for (const auto& p : b.packets) {
            s += ' ';
            s += std::to_string(p.time_ns);
            s += '/';
            s += std::to_string(p.size);
            s += '/';
            s += std::to_string(static_cast<int>(p.dir));
        }
        lines.push_back(std::move(s));
    }
};

// Packets of `flows` connections (both directions), times mostly rising with some going back.
std::vector<keyed_packet> traffic(std::uint32_t seed, std::size_t n, std::uint32_t flows) {
    std::mt19937 rng(seed);
    std::vector<keyed_packet> out;
    std::int64_t t = 1'000'000'000;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t f = rng() % flows;
        const std::uint8_t x[4] = {10, 0, static_cast<std::uint8_t>(f >> 8), static_cast<std::uint8_t>(f)};
        const std::uint8_t y[4] = {10, 1, 0, static_cast<std::uint8_t>(f % 7)};
        keyed_packet kp;
        kp.key.src = ip_address::v4(x);
        kp.key.dst = ip_address::v4(y);
        kp.key.sport = static_cast<std::uint16_t>(1000 + f);
        kp.key.dport = 443;
        kp.key.proto = 6;
        if (rng() % 3 == 0) kp.key = kp.key.reversed();
        t += static_cast<std::int64_t>(rng() % 400'000'000);
        kp.pkt.time_ns = rng() % 50 == 0 ? t - static_cast<std::int64_t>(rng() % 3'000'000'000) : t;
        kp.pkt.size = 40 + rng() % 1400;
        out.push_back(kp);
    }
    return out;
}

template <class Key, class Stage>
std::vector<std::string> one_table(const std::vector<keyed_packet>& pk, flows::limits lim, Stage st) {
    flows::flow_table<Key, Stage> t(lim, st);
    log_sink s;
    source::memory src(pk);
    t.consume(src, s);
    return s.lines;
}

// Chunks of `chunk` packets added one by one (partition, group, replay).
template <class Key, class Stage>
std::vector<std::string> by_chunks(const std::vector<keyed_packet>& pk, flows::limits lim, Stage st, std::size_t shards,
                                   std::size_t chunk) {
    flows::sharded_table<Key, Stage> t(lim, st, shards);
    log_sink s;
    typename flows::sharded_table<Key, Stage>::chunk c;
    for (std::size_t i = 0; i < pk.size(); i += chunk) {
        const std::size_t n = std::min(chunk, pk.size() - i);
        c.packets.assign(pk.begin() + static_cast<std::ptrdiff_t>(i), pk.begin() + static_cast<std::ptrdiff_t>(i + n));
        c.base = i;
        t.add(c, s);
    }
    t.finish(s);
    CHECK(t.stats().packets == pk.size());
    return s.lines;
}

// The pipelined consume on `threads` threads.
template <class Key, class Stage>
std::vector<std::string> consumed(const std::vector<keyed_packet>& pk, flows::limits lim, Stage st, int threads,
                                  std::size_t chunk) {
    flows::sharded_table<Key, Stage> t(lim, st);
    log_sink s;
    source::memory src(pk);
    oneapi::tbb::task_arena arena(threads);
    arena.execute([&] { t.consume(src, s, chunk); });
    return s.lines;
}

blocks::window_spec short_windows() {
    blocks::window_spec w;
    w.length_ns = 5'000'000'000;
    w.stride_ns = 2'500'000'000;
    w.min_packets = 2;
    return w;
}

}  // namespace

TEST_CASE("sharded_table: the same flows, blocks, order and ids as one flow_table") {
    const auto pk = traffic(7, 20000, 300);
    SUBCASE("flows only, unidirectional") {
        const auto want = one_table<flows::unidirectional>(pk, {}, flows::no_stage{});
        REQUIRE(want.size() > 300);
        for (std::size_t shards : {1u, 3u, 16u})
            for (std::size_t chunk : {1u, 97u, 4096u, 100000u})
                CHECK(by_chunks<flows::unidirectional>(pk, {}, flows::no_stage{}, shards, chunk) == want);
    }
    SUBCASE("windows, bidirectional") {
        const auto want = one_table<flows::bidirectional>(pk, {}, blocks::windower(short_windows()));
        REQUIRE(want.size() > 1000);
        for (std::size_t shards : {2u, 16u})
            for (std::size_t chunk : {1u, 333u, 8192u})
                CHECK(by_chunks<flows::bidirectional>(pk, {}, blocks::windower(short_windows()), shards, chunk) == want);
    }
    SUBCASE("first window only, held until 20 packets (mini_flowpic, shapira2019 rules)") {
        blocks::window_spec w;
        w.length_ns = 15'000'000'000;
        w.first_only = true;
        w.min_flow_packets = 20;
        const auto want = one_table<flows::bidirectional>(pk, {}, blocks::windower(w));
        REQUIRE(!want.empty());
        CHECK(by_chunks<flows::bidirectional>(pk, {}, blocks::windower(w), 16, 1000) == want);
    }
    SUBCASE("pipelined consume on 1, 2 and 3 threads") {
        const auto want = one_table<flows::bidirectional>(pk, {}, blocks::windower(short_windows()));
        for (int threads : {1, 2, 3})
            for (std::size_t chunk : {1u, 1000u})
                CHECK(consumed<flows::bidirectional>(pk, {}, blocks::windower(short_windows()), threads, chunk) == want);
    }
}

TEST_CASE("sharded_table: with limits one shard, exact") {
    const auto pk = traffic(11, 20000, 400);
    const blocks::windower win(short_windows());
    SUBCASE("idle timeout") {
        const flows::limits lim{2'000'000'000, 0, 0};
        const auto want = one_table<flows::unidirectional>(pk, lim, win);
        CHECK(flows::sharded_table<flows::unidirectional, blocks::windower>(lim, win, 16).shard_count() == 1);
        for (std::size_t chunk : {1u, 500u}) CHECK(by_chunks<flows::unidirectional>(pk, lim, win, 16, chunk) == want);
        for (int threads : {1, 2, 3}) CHECK(consumed<flows::unidirectional>(pk, lim, win, threads, 700) == want);
    }
    SUBCASE("max flows") {
        const flows::limits lim{0, 50, 0};
        const auto want = one_table<flows::bidirectional>(pk, lim, win);
        for (int threads : {1, 2, 3}) CHECK(consumed<flows::bidirectional>(pk, lim, win, threads, 700) == want);
    }
    SUBCASE("max packets") {
        const flows::limits lim{0, 0, 200};
        const auto want = one_table<flows::bidirectional>(pk, lim, win);
        for (int threads : {1, 2, 3}) CHECK(consumed<flows::bidirectional>(pk, lim, win, threads, 700) == want);
    }
    SUBCASE("all flows in one: one shard") {
        const auto want = one_table<flows::all_flows>(pk, {}, win);
        CHECK(consumed<flows::all_flows>(pk, {}, win, 3, 700) == want);
    }
}

TEST_CASE("sharded_table: counters add up to one table's") {
    const auto pk = traffic(3, 5000, 100);
    flows::flow_table<flows::unidirectional> one;
    flows::sharded_table<flows::unidirectional> many;
    flows::callback_sink sink{flows::ignore{}, flows::ignore{}};
    source::memory a(pk), b(pk);
    one.consume(a, sink);
    many.consume(b, sink, 512);
    CHECK(many.shard_count() == flows::sharded_table<flows::unidirectional>::default_shards);
    CHECK(many.stats().packets == one.stats().packets);
    CHECK(many.stats().flows == one.stats().flows);
    CHECK(many.stats().backwards == one.stats().backwards);
    CHECK(many.live_flows() == 0);
}
