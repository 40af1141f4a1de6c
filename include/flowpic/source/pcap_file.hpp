#pragma once
// Offline pcap files through libpcap: micro- and nanosecond timestamps, both byte orders, read at
// nanosecond precision. libpcap also reads pcapng files whose interfaces all share one link type
// and snap length; source::pcapng_file reads every pcapng file, and visit_file opens them with it.
//
// next_chunk (keyed_packet.hpp) reads the records of a regular classic pcap file in the host's
// byte order natively, in blocks of 4 MiB, and decodes them on all threads (oneTBB); a record it
// does not take as ordinary (damaged or cut short, beyond the snap length, an odd timestamp, a
// filter set) goes through libpcap as next() reads it, so packets, counters and errors are the same.

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "flowpic/core/error.hpp"
#include "flowpic/decode/frame.hpp"
#include "flowpic/source/bpf_filter.hpp"
#include "flowpic/source/keyed_packet.hpp"
#include "flowpic/source/size_policy.hpp"

namespace flowpic::source {

namespace detail {

struct pcap_handle {
    pcap_t* p = nullptr;
    pcap_handle() = default;
    explicit pcap_handle(pcap_t* h) noexcept : p(h) {}
    pcap_handle(pcap_handle&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
    pcap_handle& operator=(pcap_handle&& o) noexcept {
        if (this != &o) {
            reset();
            p = std::exchange(o.p, nullptr);
        }
        return *this;
    }
    pcap_handle(const pcap_handle&) = delete;
    pcap_handle& operator=(const pcap_handle&) = delete;
    ~pcap_handle() { reset(); }
    void reset() noexcept {
        if (p) pcap_close(p);
        p = nullptr;
    }
};

// Turns a frame into a keyed packet under the size and protocol policies; false = skip it.
template <class Size, class Protocols>
[[nodiscard]] FLOWPIC_ALWAYS_INLINE bool frame_to_packet(int dlt, const std::uint8_t* data, std::uint32_t caplen,
                                                        std::uint32_t wire, std::int64_t time_ns,
                                                        capture_stats& st, keyed_packet& out,
                                                        decode::tunnel_mode tunnels = decode::tunnel_mode::outer) noexcept {
    decode::decoded d;
    const decode::status s = decode::decode_frame(dlt, data, caplen, d, tunnels);
    if (FLOWPIC_UNLIKELY(s != decode::status::ok)) {
        if (s == decode::status::truncated) ++st.truncated;
        else if (s == decode::status::malformed) ++st.malformed;
        else ++st.not_ip;
        return false;
    }
    if (!d.tcp_udp) {
        if (d.fragment && !d.first_fragment && (d.key.proto == 6 || d.key.proto == 17)) {
            ++st.non_first_fragments;
            if constexpr (!Protocols::keep_all) return false;
        } else if constexpr (!Protocols::keep_all) {
            ++st.other_protocol;
            return false;
        }
    }
    out.key = d.key;
    out.pkt.time_ns = time_ns;
    out.pkt.size = Size::of(d, wire);
    out.pkt.dir = direction::forward;
    out.direction_known = false;
    ++st.packets;
    if (d.tunnelled) ++st.tunnelled;
    return true;
}

}  // namespace detail

template <size::size_policy Size = size::ip_length, class Protocols = protocols::tcp_udp>
class pcap_file {
public:
    using size_policy = Size;
    static constexpr bool time_ordered = true;

    explicit pcap_file(std::string path) : path_(std::move(path)) {
        char err[PCAP_ERRBUF_SIZE] = {};
        // fopen succeeds on a directory on Linux; libpcap would then report a read error
        struct stat st {};
        if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            throw io_error(location{path_}, "is a directory, not a capture file");
        FILE* f = std::fopen(path_.c_str(), "rb");
        if (!f) throw io_error(location{path_}, std::string("cannot open: ") + std::strerror(errno));
        // classic pcap: records are a 16-byte header and the data, so a damaged record's start is known
        // (regular files only: a pipe cannot be rewound)
        struct stat fst {};
        unsigned char magic[4] = {};
        const bool regular = ::fstat(::fileno(f), &fst) == 0 && S_ISREG(fst.st_mode);
        if (regular && std::fread(magic, 1, 4, f) == 4) {
            const std::uint32_t m = static_cast<std::uint32_t>(magic[0]) | (static_cast<std::uint32_t>(magic[1]) << 8) |
                                    (static_cast<std::uint32_t>(magic[2]) << 16) |
                                    (static_cast<std::uint32_t>(magic[3]) << 24);
            if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1) record_start_ = 24;
            // the native chunk reader: version 2.4 in the host's byte order (libpcap swaps nothing)
            unsigned char rest[20] = {};
            if ((m == 0xa1b2c3d4 || m == 0xa1b23c4d) && std::endian::native == std::endian::little &&
                std::fread(rest, 1, 20, f) == 20) {
                const auto u16 = [&](int i) { return static_cast<std::uint32_t>(rest[i] | (rest[i + 1] << 8)); };
                const auto u32 = [&](int i) { return u16(i) | (u16(i + 2) << 16); };
                if (u16(0) == 2 && u16(2) == 4) {
                    native_ = true;
                    nano_ = m == 0xa1b23c4d;
                    const std::uint32_t snap = u32(12);
                    snap_ = snap == 0 || snap > max_snap ? max_snap : snap;
                }
            }
        }
        if (regular) std::rewind(f);
        // pcap_fopen_offline owns f once it succeeds; on failure f is still ours to close
        pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
        if (!p) {
            std::fclose(f);
            std::string msg = err;
            if (msg.empty()) msg = "not a pcap or pcapng file";
            throw format_error(location{path_, 0}, msg);
        }
        handle_ = detail::pcap_handle(p);
        dlt_ = pcap_datalink(p);
        if (!decode::supported(dlt_))
            throw format_error(location{path_, 0}, "unsupported " + decode::link_type_name(dlt_) +
                                                      " (flowpic decodes Ethernet, loopback, raw IP, Linux cooked, PPP, Cisco HDLC, 802.11, radiotap and PPI captures)");
    }

    // Fills `out` with the next TCP/UDP packet; false at the end of the file.
    bool next(keyed_packet& out) {
        pcap_pkthdr* h = nullptr;
        const u_char* data = nullptr;
        for (;;) {
            const int rc = pcap_next_ex(handle_.p, &h, &data);
            if (FLOWPIC_UNLIKELY(rc != 1)) {
                if (rc == PCAP_ERROR_BREAK) return false;  // clean end of file
                fail(pcap_geterr(handle_.p));
            }
            // pcapng timestamps are 64-bit: past year 2262 they do not fit int64 nanoseconds
            if (FLOWPIC_UNLIKELY(h->ts.tv_sec > max_seconds || h->ts.tv_sec < -max_seconds))
                fail(("timestamp of " + std::to_string(h->ts.tv_sec) + " s is out of range").c_str());
            if (record_start_ != location::npos) record_start_ += 16 + std::uint64_t{h->caplen};
            if (!filter_.empty() && !filter_.matches(dlt_, data, h->caplen, h->len)) continue;
            ++stats_.frames;
            const std::int64_t t = static_cast<std::int64_t>(h->ts.tv_sec) * ns_per_second +
                                   static_cast<std::int64_t>(h->ts.tv_usec);
            if (detail::frame_to_packet<Size, Protocols>(dlt_, data, h->caplen, h->len, t, stats_, out, tunnels_)) return true;
        }
    }

    // Up to `max` TCP/UDP packets (keyed_packet.hpp's chunk protocol): the packets next() would
    // give, read natively and decoded in parallel where the records allow (see the top of this file).
    std::size_t next_chunk(keyed_packet* out, std::size_t max) {
        for (;;) {
            if (max == 0) return 0;
            if (!native_ || !filter_.empty() || libpcap_next_) {
                libpcap_next_ = false;
                return by_libpcap(*out) ? 1 : 0;
            }
            if (!fill()) {  // a read error: libpcap reports it
                native_ = false;
                continue;
            }
            // the ordinary records from record_start_; the first other one is left to libpcap
            recs_.clear();
            std::size_t pos = static_cast<std::size_t>(record_start_ - buf_off_);
            while (recs_.size() < max) {
                if (pos + 16 > buf_len_) {
                    if (eof_) libpcap_next_ = true;  // the end, or a header cut short: libpcap says which
                    break;
                }
                const std::uint8_t* h = buf_.data() + pos;
                std::uint32_t v[4];
                std::memcpy(v, h, sizeof v);
                const auto sec = static_cast<std::int32_t>(v[0]);
                const std::uint32_t frac = v[1], caplen = v[2], wire = v[3];
                if (sec < 0 || frac >= (nano_ ? 1'000'000'000u : 1'000'000u) || caplen > snap_ || caplen > wire) {
                    libpcap_next_ = true;
                    break;
                }
                if (pos + 16 + caplen > buf_len_) {
                    if (eof_) libpcap_next_ = true;  // data cut short: libpcap's error
                    break;
                }
                recs_.push_back({pos + 16, caplen, wire,
                                 static_cast<std::int64_t>(sec) * ns_per_second +
                                     static_cast<std::int64_t>(frac) * (nano_ ? 1 : 1000)});
                pos += 16 + std::size_t{caplen};
            }
            record_start_ = buf_off_ + pos;
            if (recs_.empty()) {
                libpcap_next_ = true;
                continue;
            }
            if (const std::size_t k = decode_records(out); k > 0) return k;
            // no TCP/UDP packet among them: read on (0 means the end)
        }
    }

    [[nodiscard]] int link_type() const noexcept { return dlt_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] const capture_stats& stats() const noexcept { return stats_; }
    // GRE and GTP-U: the outer packet (default) or the tunnelled one is the flow's (decode/frame.hpp).
    void set_tunnels(decode::tunnel_mode m) noexcept { tunnels_ = m; }
    // Only the frames this BPF expression passes (bpf_filter.hpp); format_error when invalid.
    void set_filter(const std::string& expression) { filter_ = bpf_filter(expression, path_, dlt_); }
    [[nodiscard]] const std::string& filter() const noexcept { return filter_.expression(); }

private:
    // leaves room for a fraction of up to 2^32 ns (nanosecond pcap records are not range-checked)
    static constexpr std::int64_t max_seconds = std::numeric_limits<std::int64_t>::max() / ns_per_second - 5;
    static constexpr std::uint32_t max_snap = 262144;  // libpcap's largest snap length for the link types flowpic decodes
    static constexpr std::size_t block_size = std::size_t{4} << 20;
    static constexpr std::size_t decode_block = 2048;
    struct record {
        std::size_t at;  // data, in buf_
        std::uint32_t caplen, wire;
        std::int64_t time_ns;
    };

    // next() from record_start_, where libpcap's file position is put first.
    bool by_libpcap(keyed_packet& out) {
        if (native_) {
            FILE* f = ::pcap_file(handle_.p);
            if (!f || std::fseek(f, static_cast<long>(record_start_), SEEK_SET) != 0) fail("cannot seek");
        }
        return next(out);
    }

    // The buffer holds the file from record_start_ on, at least half a block when the file has it.
    bool fill() {
        if (buf_.size() != block_size) buf_.resize(block_size);
        if (record_start_ < buf_off_ || record_start_ > buf_off_ + buf_len_) {
            buf_off_ = record_start_;
            buf_len_ = 0;
            eof_ = false;
        }
        const auto skip = static_cast<std::size_t>(record_start_ - buf_off_);
        if (eof_ || buf_len_ - skip >= block_size / 2) return true;
        std::memmove(buf_.data(), buf_.data() + skip, buf_len_ - skip);
        buf_len_ -= skip;
        buf_off_ = record_start_;
        FILE* f = ::pcap_file(handle_.p);
        if (!f) return false;
        const int fd = ::fileno(f);
        while (buf_len_ < block_size) {
            const ::ssize_t got = ::pread(fd, buf_.data() + buf_len_, block_size - buf_len_,
                                          static_cast<::off_t>(buf_off_ + buf_len_));
            if (got < 0) {
                if (errno == EINTR) continue;
                return false;
            }
            if (got == 0) {
                eof_ = true;
                break;
            }
            buf_len_ += static_cast<std::size_t>(got);
        }
        return true;
    }

    // Decodes recs_ into out (room for every record) in blocks, on all threads where more than 2
    // may run, each block's counters apart, then keeps the TCP/UDP packets in record order (in
    // place: no copy while every record is one).
    std::size_t decode_records(keyed_packet* out) {
        const std::size_t n = recs_.size(), blocks = (n + decode_block - 1) / decode_block;
        if (kept_.size() < n) kept_.resize(n);  // never shrunk: no clearing per call
        block_stats_.assign(blocks, capture_stats{});
        const auto decode = [&](std::size_t b) {
            capture_stats& st = block_stats_[b];
            for (std::size_t i = b * decode_block, e = std::min(n, i + decode_block); i < e; ++i) {
                const record& r = recs_[i];
                kept_[i] = detail::frame_to_packet<Size, Protocols>(dlt_, buf_.data() + r.at, r.caplen, r.wire, r.time_ns,
                                                                   st, out[i], tunnels_);
            }
        };
        // on 2 threads or fewer the hand-offs cost about what a second core saves (docs/benchmarks.md,
        // "Ingest on every core"): one thread decodes
        const auto threads =
            oneapi::tbb::global_control::active_value(oneapi::tbb::global_control::max_allowed_parallelism);
        if (blocks == 1 || threads <= 2) {
            for (std::size_t b = 0; b < blocks; ++b) decode(b);
        } else {
            oneapi::tbb::parallel_for(std::size_t{0}, blocks, decode);
        }
        std::size_t k = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (!kept_[i]) continue;
            if (k != i) out[k] = out[i];
            ++k;
        }
        stats_.frames += n;  // the blocks count packets, not frames
        for (const auto& st : block_stats_) stats_ += st;
        return k;
    }

    [[noreturn]] void fail(const char* why) {
        throw format_error(location{path_, file_offset()}, why && *why ? why : "read error");
    }
    [[nodiscard]] std::uint64_t file_offset() const noexcept {
        if (record_start_ != location::npos) return record_start_;  // the damaged record's start
        FILE* f = ::pcap_file(handle_.p);
        if (!f) return location::npos;
        const long pos = std::ftell(f);
        return pos < 0 ? location::npos : static_cast<std::uint64_t>(pos);
    }

    std::string path_;
    detail::pcap_handle handle_;
    int dlt_ = 0;
    std::uint64_t record_start_ = location::npos;  // where the next record starts (classic pcap)
    capture_stats stats_;
    decode::tunnel_mode tunnels_ = decode::tunnel_mode::outer;
    bpf_filter filter_;
    // the native chunk reader (next_chunk)
    bool native_ = false;        // a regular pcap 2.4 file in the host's byte order
    bool nano_ = false;
    std::uint32_t snap_ = max_snap;
    bool libpcap_next_ = false;  // the next record is libpcap's to read
    bool eof_ = false;
    std::vector<std::uint8_t> buf_;  // the file's bytes [buf_off_, buf_off_ + buf_len_)
    std::uint64_t buf_off_ = 0;
    std::size_t buf_len_ = 0;
    std::vector<record> recs_;
    std::vector<unsigned char> kept_;
    std::vector<capture_stats> block_stats_;
};

}  // namespace flowpic::source
