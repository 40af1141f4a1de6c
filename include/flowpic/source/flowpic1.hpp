#pragma once
// FLOWPIC1 workloads (../shared/peers/README.md): pre-cut blocks of packets with a class label per
// block, the synthetic workload the peer benchmarks time. Loaded whole into contiguous packet
// records plus per-block offsets, so that blocks are spans (blocks::block) without copies;
// also usable as a packet source (one session per block, the direction known).
//
// Layout, little-endian and packed: a 48-byte header (magic "FLOWPIC1", u32 version = 1,
// u32 n_blocks, u64 n_packets, f64 block_seconds, f64 t0, u32 seed, u32 reserved), n_packets
// records of 15 bytes (u32 block_id, f64 time in absolute seconds, u16 size, u8 direction:
// 0 up, 1 down) sorted by (block_id, time), then one u8 label per block. Block b's window is
// [t0 + b * block_seconds, t0 + (b + 1) * block_seconds).
//
// Every malformed file raises flowpic::format_error naming the file and the byte offset.

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "flowpic/blocks/block.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::source {

namespace detail {

template <class T>
[[nodiscard]] inline T load_le(const unsigned char* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof(T));  // x86 and other little-endian hosts only (static_assert below)
    return v;
}

// Nearest integer nanoseconds to a float64 time in seconds (exact whole seconds, rounded fraction).
[[nodiscard]] inline std::int64_t seconds_to_ns(double s) noexcept {
    const double whole = std::floor(s);
    const double frac = s - whole;  // exact for |s| >= 1
    return static_cast<std::int64_t>(whole) * ns_per_second + std::llround(frac * 1e9);
}

}  // namespace detail

static_assert(std::endian::native == std::endian::little, "flowpic: the FLOWPIC1 reader assumes a little-endian host");

class flowpic1_workload;

// The workload's blocks as a random-access range of blocks::block (picture::block_range).
class flowpic1_blocks {
public:
    explicit flowpic1_blocks(const flowpic1_workload& w) noexcept : w_(&w) {}
    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] blocks::block operator[](std::size_t b) const noexcept;

private:
    const flowpic1_workload* w_;
};

class flowpic1_workload {
public:
    static constexpr std::size_t header_bytes = 48;
    static constexpr std::size_t record_bytes = 15;

    flowpic1_workload() = default;

    // Loads and checks a whole file.
    explicit flowpic1_workload(const std::string& path) : path_(path) {
        FILE* f = std::fopen(path.c_str(), "rb");
        if (!f) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
        std::vector<unsigned char> bytes;
        unsigned char buf[1 << 16];
        std::size_t got;
        while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + got);
        const bool bad = std::ferror(f) != 0;
        std::fclose(f);
        if (bad) throw io_error(location{path}, "read error");
        parse(bytes.data(), bytes.size());
    }

    // Parses a workload held in memory (`name` is used in error messages).
    static flowpic1_workload from_bytes(const unsigned char* data, std::size_t size, std::string name = "<memory>") {
        flowpic1_workload w;
        w.path_ = std::move(name);
        w.parse(data, size);
        return w;
    }

    // A deterministic synthetic workload in the spirit of ../shared/peers/gen_workload.py (same
    // classes, log-normal packet counts truncated to 20..20000, bimodal sizes 40..1500, bursty
    // sorted times in each 60 s window), made in memory. Not the same packets as the Python
    // generator: compare with the peers on a file that generator wrote (--workload).
    static flowpic1_workload synthetic(std::uint32_t n_blocks = 2000, std::uint32_t seed = 20240601) {
        struct cls {
            double p, median, sigma, small, mid;
            int bmin, bmax;
            double scale;
        };
        static constexpr cls classes[5] = {{0.30, 80, 1.00, 0.55, 0.40, 2, 12, 0.3},   // chat
                                           {0.35, 460, 1.20, 0.45, 0.15, 2, 20, 0.8},  // browsing
                                           {0.10, 1500, 0.60, 0.20, 0.75, 0, 0, 0.0},  // voip
                                           {0.15, 1200, 1.00, 0.35, 0.05, 6, 30, 1.5}, // video
                                           {0.10, 3000, 1.00, 0.40, 0.02, 1, 4, 8.0}}; // file transfer
        flowpic1_workload w;
        w.path_ = "<synthetic>";
        w.n_blocks_ = n_blocks;
        w.block_seconds_ = 60.0;
        w.t0_ = 1.6e9;
        w.seed_ = seed;
        std::mt19937_64 rng(seed);
        std::uniform_real_distribution<double> u01(0.0, 1.0);
        std::discrete_distribution<int> pick({0.30, 0.35, 0.10, 0.15, 0.10});
        w.offsets_.assign(1, 0);
        std::vector<double> t;
        for (std::uint32_t b = 0; b < n_blocks; ++b) {
            const int c = pick(rng);
            const cls& k = classes[c];
            w.labels_.push_back(static_cast<std::uint8_t>(c));
            std::lognormal_distribution<double> count(std::log(k.median), k.sigma);
            std::size_t n;
            do n = static_cast<std::size_t>(std::llround(count(rng)));
            while (n < 20 || n > 20000);
            t.resize(n);
            if (c == 2) {  // voip: constant rate with jitter
                const double start = u01(rng) * 5.0;
                std::normal_distribution<double> jit(0.0, 0.004);
                for (std::size_t i = 0; i < n; ++i) t[i] = start + (60.0 - start) * static_cast<double>(i) / static_cast<double>(n) + jit(rng);
            } else {  // bursts around random centres plus 10 % background
                const int bursts = k.bmin + static_cast<int>(u01(rng) * (k.bmax - k.bmin + 1));
                std::vector<double> centre(static_cast<std::size_t>(bursts)), width(static_cast<std::size_t>(bursts));
                std::exponential_distribution<double> ex(1.0);
                for (int j = 0; j < bursts; ++j) {
                    centre[static_cast<std::size_t>(j)] = u01(rng) * 60.0;
                    width[static_cast<std::size_t>(j)] = ex(rng) * k.scale + 0.01;
                }
                for (std::size_t i = 0; i < n; ++i) {
                    const auto j = static_cast<std::size_t>(u01(rng) * bursts);
                    t[i] = u01(rng) < 0.10 ? u01(rng) * 60.0 : centre[j] + ex(rng) * width[j];
                }
            }
            for (double& x : t) x = std::clamp(x, 0.0, 60.0 - 1e-6);
            std::sort(t.begin(), t.end());
            const std::int64_t start = detail::seconds_to_ns(w.t0_ + b * 60.0);
            for (std::size_t i = 0; i < n; ++i) {
                const double m = u01(rng);
                std::uint32_t size;
                int mode;
                if (m < k.small) {
                    mode = 0;
                    const double r = u01(rng);
                    size = r < 0.3 ? 40 : r < 0.55 ? 52 : 40 + static_cast<std::uint32_t>(u01(rng) * 61);
                } else if (m < k.small + k.mid) {
                    mode = 1;
                    size = static_cast<std::uint32_t>(std::min(100.0 - 250.0 * std::log(1.0 - u01(rng)), 1299.0));
                } else {
                    mode = 2;
                    const double r = u01(rng);
                    size = r < 0.5 ? 1500 : r < 0.7 ? 1420 + static_cast<std::uint32_t>(u01(rng) * 41)
                                                    : 1300 + static_cast<std::uint32_t>(u01(rng) * 201);
                }
                const double p_down = c == 2 ? 0.5 : mode == 0 ? 0.3 : mode == 1 ? 0.5 : 0.9;
                w.packets_.push_back(packet{start + static_cast<std::int64_t>(std::llround(t[i] * 1e9)), size,
                                            u01(rng) < p_down ? direction::reverse : direction::forward});
            }
            w.offsets_.push_back(w.packets_.size());
        }
        return w;
    }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::size_t block_count() const noexcept { return n_blocks_; }
    [[nodiscard]] std::size_t packet_count() const noexcept { return packets_.size(); }
    [[nodiscard]] double block_seconds() const noexcept { return block_seconds_; }
    [[nodiscard]] double t0() const noexcept { return t0_; }
    [[nodiscard]] std::uint32_t seed() const noexcept { return seed_; }
    [[nodiscard]] const std::vector<packet>& packets() const noexcept { return packets_; }
    [[nodiscard]] const std::vector<std::uint64_t>& offsets() const noexcept { return offsets_; }
    [[nodiscard]] const std::vector<std::uint8_t>& labels() const noexcept { return labels_; }

    // Window start of block b, integer ns (t0 + b * block_seconds, as the generator computes it).
    [[nodiscard]] std::int64_t window_start_ns(std::size_t b) const noexcept {
        return detail::seconds_to_ns(t0_ + static_cast<double>(b) * block_seconds_);
    }
    [[nodiscard]] std::int64_t window_end_ns(std::size_t b) const noexcept {
        return detail::seconds_to_ns(t0_ + static_cast<double>(b + 1) * block_seconds_);
    }

    [[nodiscard]] blocks::block block(std::size_t b) const noexcept {
        const std::size_t lo = offsets_[b], hi = offsets_[b + 1];
        return blocks::block{nullptr, std::span<const packet>(packets_.data() + lo, hi - lo), window_start_ns(b),
                             window_end_ns(b), b};
    }
    [[nodiscard]] flowpic1_blocks blocks() const noexcept { return flowpic1_blocks(*this); }

private:
    [[noreturn]] void fail(std::uint64_t offset, const std::string& what) const {
        throw format_error(location{path_, offset}, "FLOWPIC1: " + what);
    }

    void parse(const unsigned char* d, std::size_t size) {
        if (size < header_bytes) fail(size, "file ends inside the 48-byte header (" + std::to_string(size) + " bytes)");
        if (std::memcmp(d, "FLOWPIC1", 8) != 0) fail(0, "bad magic (not a FLOWPIC1 workload)");
        const auto version = detail::load_le<std::uint32_t>(d + 8);
        if (version != 1) fail(8, "unsupported version " + std::to_string(version));
        n_blocks_ = detail::load_le<std::uint32_t>(d + 12);
        const auto n_packets = detail::load_le<std::uint64_t>(d + 16);
        block_seconds_ = detail::load_le<double>(d + 24);
        t0_ = detail::load_le<double>(d + 32);
        seed_ = detail::load_le<std::uint32_t>(d + 40);
        if (!(std::isfinite(block_seconds_) && block_seconds_ > 0 && block_seconds_ < 1e9))
            fail(24, "block_seconds must be a positive number of seconds");
        if (!(std::isfinite(t0_) && std::fabs(t0_) < 9e9)) fail(32, "t0 must be a finite epoch time in seconds");
        const std::uint64_t avail = size - header_bytes;
        if (n_packets > avail / record_bytes || n_packets * record_bytes + n_blocks_ > avail)
            fail(size, "file ends early: the header promises " + std::to_string(n_packets) + " records and " +
                           std::to_string(n_blocks_) + " labels (" +
                           std::to_string(header_bytes + n_packets * record_bytes + n_blocks_) + " bytes), the file has " +
                           std::to_string(size));
        const std::uint64_t end = header_bytes + n_packets * record_bytes + n_blocks_;
        if (end != size) fail(end, std::to_string(size - end) + " bytes after the labels");

        packets_.clear();
        packets_.reserve(static_cast<std::size_t>(n_packets));
        offsets_.assign(std::size_t{n_blocks_} + 1, 0);
        std::uint32_t prev_block = 0;
        double prev_time = -INFINITY;
        for (std::uint64_t i = 0; i < n_packets; ++i) {
            const std::uint64_t off = header_bytes + i * record_bytes;
            const unsigned char* r = d + off;
            const auto blk = detail::load_le<std::uint32_t>(r);
            const auto t = detail::load_le<double>(r + 4);
            const auto sz = detail::load_le<std::uint16_t>(r + 12);
            const std::uint8_t dir = r[14];
            if (blk >= n_blocks_) fail(off, "block id " + std::to_string(blk) + " >= n_blocks " + std::to_string(n_blocks_));
            if (blk < prev_block) fail(off, "records are not sorted by block id");
            if (!std::isfinite(t) || std::fabs(t) > 9e9) fail(off + 4, "time is not a finite epoch time in seconds");
            if (blk == prev_block && t < prev_time) fail(off + 4, "records are not sorted by time within block " + std::to_string(blk));
            if (dir > 1) fail(off + 14, "direction " + std::to_string(dir) + " is neither 0 (up) nor 1 (down)");
            for (std::uint32_t b = prev_block + 1; b <= blk; ++b) offsets_[b] = i;  // blocks without packets are empty
            prev_block = blk;
            prev_time = t;
            packets_.push_back(packet{detail::seconds_to_ns(t), sz, dir ? direction::reverse : direction::forward});
        }
        for (std::uint32_t b = n_packets ? prev_block + 1 : 0; b <= n_blocks_; ++b) offsets_[b] = n_packets;
        labels_.assign(d + header_bytes + n_packets * record_bytes, d + end);
    }

    std::string path_;
    std::uint32_t n_blocks_ = 0;
    double block_seconds_ = 60.0;
    double t0_ = 0;
    std::uint32_t seed_ = 0;
    std::vector<packet> packets_;
    std::vector<std::uint64_t> offsets_{0};
    std::vector<std::uint8_t> labels_;
};

inline std::size_t flowpic1_blocks::size() const noexcept { return w_->block_count(); }
inline blocks::block flowpic1_blocks::operator[](std::size_t b) const noexcept { return w_->block(b); }

// The workload as a packet source: packets in file order, each block one session (flow_key with
// session = block id), the direction known (0 up = forward, 1 down = reverse).
class flowpic1_file {
public:
    explicit flowpic1_file(const std::string& path) : w_(path) {}
    explicit flowpic1_file(flowpic1_workload w) : w_(std::move(w)) {}

    bool next(keyed_packet& out) {
        if (i_ >= w_.packet_count()) return false;
        while (w_.offsets()[block_ + 1] <= i_) ++block_;
        out.key = flow_key{};
        out.key.session = static_cast<std::uint32_t>(block_);
        out.pkt = w_.packets()[i_++];
        out.direction_known = true;
        return true;
    }

    [[nodiscard]] const flowpic1_workload& workload() const noexcept { return w_; }

private:
    flowpic1_workload w_;
    std::size_t i_ = 0;
    std::size_t block_ = 0;
};

// True when the file starts with the FLOWPIC1 magic.
[[nodiscard]] inline bool is_flowpic1(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    char m[8] = {};
    const std::size_t n = std::fread(m, 1, 8, f);
    std::fclose(f);
    return n == 8 && std::memcmp(m, "FLOWPIC1", 8) == 0;
}

}  // namespace flowpic::source
