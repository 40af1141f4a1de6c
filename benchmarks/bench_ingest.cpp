// Capture ingestion: libpcap read + decode + flow table, over the Requet captures (page cache).
// The floor is ../shared/peers/machine/pcap_read_loop.c; benchmarks/peers/compare_ingest.sh runs
// it, the dpkt peer and this side by side.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <oneapi/tbb/task_arena.h>

#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/flows/sharded_table.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/pcapng_file.hpp"

namespace {

std::vector<std::string> requet_files() {
    std::string dir = FLOWPIC_BENCH_SHARED_DATA;
    if (const char* e = std::getenv("FLOWPIC_SHARED_DATA")) dir = e;
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir + "/requet-youtube-b2", ec))
        if (e.path().extension() == ".pcap") out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

// Every Requet capture through consume(src, sink) per iteration; sink counts blocks and flow ends.
template <class Consume>
void over_requet(benchmark::State& state, Consume consume) {
    const auto files = requet_files();
    if (files.empty()) {
        state.SkipWithError("../shared/data/requet-youtube-b2 not found (set FLOWPIC_SHARED_DATA)");
        return;
    }
    std::uint64_t packets = 0;
    for (auto _ : state) {
        std::uint64_t blocks = 0, flows = 0;
        for (const auto& f : files) {
            flowpic::source::pcap_file<> src(f);
            flowpic::flows::callback_sink out{[&](const flowpic::blocks::block&) { ++blocks; },
                                              [&](const flowpic::flows::flow&, flowpic::flows::end_reason) { ++flows; }};
            consume(src, out);
            packets += src.stats().frames;
        }
        benchmark::DoNotOptimize(blocks + flows);
    }
    state.counters["packets_per_s"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}

template <class Key, bool Blocks>
void ingest(benchmark::State& state) {
    over_requet(state, [](auto& src, auto& out) {
        if constexpr (Blocks) {
            flowpic::blocks::windowed_table<Key> table({}, flowpic::blocks::specs::counted15);
            table.consume(src, out);
        } else {
            flowpic::flows::flow_table<Key> table;
            table.consume(src, out);
        }
    });
}

// The same through flows::sharded_table (16 shards; read | partition | group | replay) on
// state.range(0) threads: what `flowpic flows --threads N` runs above 2 threads.
template <class Key, bool Blocks>
void ingest_sharded(benchmark::State& state) {
    oneapi::tbb::task_arena arena(static_cast<int>(state.range(0)));
    over_requet(state, [&](auto& src, auto& out) {
        arena.execute([&] {
            if constexpr (Blocks) {
                flowpic::flows::sharded_table<Key, flowpic::blocks::windower> table({}, flowpic::blocks::specs::counted15);
                table.consume(src, out);
            } else {
                flowpic::flows::sharded_table<Key> table;
                table.consume(src, out);
            }
        });
    });
}

// Read + decode only, no flow table.
void decode_only(benchmark::State& state) {
    const auto files = requet_files();
    if (files.empty()) {
        state.SkipWithError("../shared/data/requet-youtube-b2 not found");
        return;
    }
    std::uint64_t packets = 0;
    for (auto _ : state) {
        std::uint64_t bytes = 0;
        for (const auto& f : files) {
            flowpic::source::pcap_file<> src(f);
            flowpic::keyed_packet kp;
            while (src.next(kp)) bytes += kp.pkt.size;
            packets += src.stats().frames;
        }
        benchmark::DoNotOptimize(bytes);
    }
    state.counters["packets_per_s"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(decode_only)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(ingest<flowpic::flows::unidirectional, false>)->Name("flows_unidirectional")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(ingest<flowpic::flows::bidirectional, false>)->Name("flows_bidirectional")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(ingest<flowpic::flows::unidirectional, true>)->Name("flows_and_15s_blocks")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(ingest_sharded<flowpic::flows::unidirectional, false>)->Name("sharded_flows_unidirectional")->Arg(1)->Arg(2)
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(ingest_sharded<flowpic::flows::unidirectional, true>)->Name("sharded_flows_and_15s_blocks")->Arg(1)->Arg(2)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

namespace {

// Read + decode only, as decode_only, from pcapng copies of the Requet captures read by the native
// reader. editcap (Debian: tshark) writes the copies once, beside this program.
void decode_only_pcapng(benchmark::State& state) {
    static const std::vector<std::string> files = [] {
        std::vector<std::string> out;
        if (std::system("command -v editcap >/dev/null 2>&1") != 0) return out;
        std::error_code ec;
        const auto dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "requet-pcapng";
        std::filesystem::create_directories(dir, ec);
        for (const auto& pcap : requet_files()) {
            const auto ng = (dir / std::filesystem::path(pcap).filename()).replace_extension(".pcapng");
            if (!std::filesystem::exists(ng) &&
                std::system(("editcap -F pcapng '" + pcap + "' '" + ng.string() + "'").c_str()) != 0)
                return std::vector<std::string>{};
            out.push_back(ng.string());
        }
        return out;
    }();
    if (files.empty()) {
        state.SkipWithError("no Requet captures, or no editcap to convert them to pcapng");
        return;
    }
    std::uint64_t packets = 0;
    for (auto _ : state) {
        std::uint64_t bytes = 0;
        for (const auto& f : files) {
            flowpic::source::pcapng_file<> src(f);
            flowpic::keyed_packet kp;
            while (src.next(kp)) bytes += kp.pkt.size;
            packets += src.stats().frames;
        }
        benchmark::DoNotOptimize(bytes);
    }
    state.counters["packets_per_s"] = benchmark::Counter(static_cast<double>(packets), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(decode_only_pcapng)->Unit(benchmark::kMillisecond)->UseRealTime();
