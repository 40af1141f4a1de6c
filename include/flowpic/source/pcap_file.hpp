#pragma once
// Offline pcap files through libpcap: micro- and nanosecond timestamps, both byte orders, read at
// nanosecond precision. libpcap also reads pcapng files whose interfaces all share one link type
// and snap length; source::pcapng_file reads every pcapng file, and visit_file opens them with it.

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include <pcap/pcap.h>
#include <sys/stat.h>

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
};

}  // namespace flowpic::source
