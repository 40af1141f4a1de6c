// pcap_file::next_chunk (native reads, parallel decoding) against next() (libpcap, one record at
// a time) as the oracle: the same packets, counters and damage, on real captures, on files whose
// records are cut short or beyond the snap length, and for any chunk size and thread count.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <unistd.h>

#include "flowpic/source/any_source.hpp"
#include "flowpic/source/damage.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "shared_data.hpp"

using namespace flowpic;

namespace {

struct read_result {
    std::vector<keyed_packet> packets;
    source::capture_stats stats;
    std::optional<source::damage> damage;
};

bool same(const keyed_packet& a, const keyed_packet& b) {
    return a.key == b.key && a.pkt.time_ns == b.pkt.time_ns && a.pkt.size == b.pkt.size && a.pkt.dir == b.pkt.dir &&
           a.direction_known == b.direction_known;
}

read_result by_next(const std::string& path) {
    source::pcap_file<> f(path);
    source::until_damage u(f);
    read_result r;
    keyed_packet kp;
    while (u.next(kp)) r.packets.push_back(kp);
    r.stats = f.stats();
    r.damage = u.damage();
    return r;
}

// Through until_damage and any_source, as the tool reads: chunks of `chunk` packets.
read_result by_chunks(const std::string& path, std::size_t chunk, int threads) {
    source::pcap_file<> f(path);
    source::until_damage u(f);
    source::any_source any(u);
    read_result r;
    std::vector<keyed_packet> buf(chunk);
    // the thread limit the tool sets (--threads): on more than 2 the records decode in parallel
    oneapi::tbb::global_control limit(oneapi::tbb::global_control::max_allowed_parallelism,
                                      static_cast<std::size_t>(threads));
    oneapi::tbb::task_arena arena(threads);
    arena.execute([&] {
        bool ended = false;
        while (!ended) {
            const std::size_t n = source::read_chunk(any, buf.data(), chunk, ended);
            r.packets.insert(r.packets.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        }
    });
    r.stats = f.stats();
    r.damage = u.damage();
    return r;
}

void check_same(const read_result& want, const read_result& got) {
    REQUIRE(got.packets.size() == want.packets.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < want.packets.size(); ++i) differ += same(want.packets[i], got.packets[i]) ? 0 : 1;
    CHECK(differ == 0);
    CHECK(got.stats.frames == want.stats.frames);
    CHECK(got.stats.packets == want.stats.packets);
    CHECK(got.stats.not_ip == want.stats.not_ip);
    CHECK(got.stats.other_protocol == want.stats.other_protocol);
    CHECK(got.stats.truncated == want.stats.truncated);
    CHECK(got.stats.malformed == want.stats.malformed);
    CHECK(got.stats.non_first_fragments == want.stats.non_first_fragments);
    REQUIRE(got.damage.has_value() == want.damage.has_value());
    if (want.damage) CHECK(got.damage->str() == want.damage->str());
}

std::vector<char> bytes_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string write_temp(const std::string& name, const std::vector<char>& bytes) {
    const auto p = std::filesystem::temp_directory_path() / ("flowpic_pcap_chunks_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p.string();
}

void check_file(const std::string& path) {
    CAPTURE(path);
    const auto want = by_next(path);
    for (std::size_t chunk : {1u, 7u, 4096u, 1u << 16})
        for (int threads : {1, 2, 4}) {
            CAPTURE(chunk);
            CAPTURE(threads);
            check_same(want, by_chunks(path, chunk, threads));
        }
}

}  // namespace

TEST_CASE("pcap_file::next_chunk: the packets, counters and damage of next()") {
    const std::string sample = test::repo("data/sample/sample.pcap");
    const std::string lab = test::repo("data/lab/sample/lab-sample.pcap");
    SUBCASE("whole captures") {
        check_file(sample);
        check_file(lab);
        if (test::shared_data_available()) check_file(test::shared("requet-youtube-b2/baseline_May03_exp_288.pcap"));
    }
    SUBCASE("cut short: in a record's data, in a header") {
        const auto b = bytes_of(lab);
        REQUIRE(b.size() > 100000);
        const std::string cut_data = write_temp("cut_data.pcap", std::vector<char>(b.begin(), b.end() - 7));
        const auto want = by_next(cut_data);
        REQUIRE(want.damage.has_value());
        check_file(cut_data);
        // the first record header that ends past 3 MB + 5
        std::size_t at = 24;
        while (at + 16 <= b.size()) {
            std::uint32_t caplen;
            std::memcpy(&caplen, b.data() + at + 8, 4);
            if (at > 3'000'000) break;
            at += 16 + caplen;
        }
        const std::string cut_header = write_temp("cut_header.pcap", std::vector<char>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(at + 5)));
        REQUIRE(by_next(cut_header).damage.has_value());
        check_file(cut_header);
        std::filesystem::remove(cut_data);
        std::filesystem::remove(cut_header);
    }
    SUBCASE("records beyond the snap length and a damaged length half way: left to libpcap") {
        auto b = bytes_of(lab);
        // snap length 100: longer records are libpcap's (truncated or refused, as it does)
        auto small = b;
        const std::uint32_t snap = 100;
        std::memcpy(small.data() + 16, &snap, 4);
        const std::string snapped = write_temp("snap.pcap", small);
        check_file(snapped);
        // a record 1000 records in claims a length beyond any snap length
        std::size_t at = 24;
        for (int i = 0; i < 1000; ++i) {
            std::uint32_t caplen;
            std::memcpy(&caplen, b.data() + at + 8, 4);
            at += 16 + caplen;
        }
        const std::uint32_t huge = 0x7fffffff;
        std::memcpy(b.data() + at + 8, &huge, 4);
        const std::string damaged = write_temp("damaged.pcap", b);
        const auto want = by_next(damaged);
        REQUIRE(want.damage.has_value());
        CHECK(want.packets.size() <= 1000);
        check_file(damaged);
        std::filesystem::remove(snapped);
        std::filesystem::remove(damaged);
    }
}
