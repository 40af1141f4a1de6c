#pragma once
// Live capture from a network interface through libpcap. A packet source like pcap_file, whose
// next() blocks until a packet arrives and returns false once a stop condition holds: a duration,
// a packet count, or stop() from another thread. Needs CAP_NET_RAW (root) on Linux.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <poll.h>
#include <pcap/pcap.h>

#include "flowpic/core/error.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/decode/frame.hpp"
#include "flowpic/decode/link_type.hpp"
#include "flowpic/source/keyed_packet.hpp"
#include "flowpic/source/pcap_file.hpp"
#include "flowpic/source/size_policy.hpp"

namespace flowpic::source {

struct live_options {
    std::string filter;               // BPF expression (tcpdump syntax); empty: every frame
    int snaplen = 262144;             // bytes kept per frame; sizes come from the IP header anyway
    bool promiscuous = false;
    bool immediate = true;            // deliver each packet at once instead of in kernel batches
    int timeout_ms = 100;             // longest wait between checks of the stop conditions
    int buffer_bytes = 0;             // kernel ring size; 0: libpcap's default
    std::chrono::nanoseconds duration{0};  // stop this long after the capture started; 0: never
    std::uint64_t max_packets = 0;    // stop after handing out this many packets; 0: never
};

template <size::size_policy Size = size::ip_length, class Protocols = protocols::tcp_udp>
class live_capture {
public:
    using size_policy = Size;
    // The kernel timestamps in arrival order per interface; "any" may interleave a little.
    static constexpr bool time_ordered = false;

    explicit live_capture(std::string interface_name, live_options opt = {})
        : iface_(std::move(interface_name)), opt_(std::move(opt)) {
        char err[PCAP_ERRBUF_SIZE] = {};
        pcap_t* p = pcap_create(iface_.c_str(), err);
        if (!p) fail_open(err);
        handle_ = detail::pcap_handle(p);
        pcap_set_snaplen(p, opt_.snaplen);
        pcap_set_promisc(p, opt_.promiscuous ? 1 : 0);
        pcap_set_timeout(p, opt_.timeout_ms > 0 ? opt_.timeout_ms : 1);
        if (opt_.immediate) pcap_set_immediate_mode(p, 1);
        if (opt_.buffer_bytes > 0) pcap_set_buffer_size(p, opt_.buffer_bytes);
        // Not every platform has nanosecond timestamps: fall back to microseconds.
        pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);

        const int rc = pcap_activate(p);
        if (rc < 0) {
            std::string why = pcap_statustostr(rc);
            const char* detail_msg = pcap_geterr(p);
            if (detail_msg && *detail_msg && why != detail_msg) why += " (" + std::string(detail_msg) + ")";
            fail_open(why.c_str());
        }
        nano_ = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
        dlt_ = pcap_datalink(p);
        if (!decode::supported(dlt_))
            throw io_error(location{iface_}, "interface has link type " + decode::link_type_name(dlt_) + " (" +
                                                 std::to_string(dlt_) + "), which flowpic does not decode");
        if (!opt_.filter.empty()) set_filter(opt_.filter);

        // Waiting in our own poll() keeps the stop conditions exact in every libpcap mode.
        fd_ = pcap_get_selectable_fd(p);
        if (fd_ >= 0 && pcap_setnonblock(p, 1, err) != 0) fd_ = -1;
        start_ = clock::now();
    }

    // Fills `out` with the next TCP/UDP packet; false once stopped (duration, count or stop()).
    bool next(keyed_packet& out) {
        pcap_pkthdr* h = nullptr;
        const u_char* data = nullptr;
        for (;;) {
            if (FLOWPIC_UNLIKELY(stop_requested_.load(std::memory_order_relaxed))) return false;
            if (opt_.max_packets > 0 && stats_.packets >= opt_.max_packets) return false;
            const int rc = pcap_next_ex(handle_.p, &h, &data);
            if (FLOWPIC_LIKELY(rc == 1)) {
                ++stats_.frames;
                const std::int64_t frac = nano_ ? static_cast<std::int64_t>(h->ts.tv_usec)
                                                : static_cast<std::int64_t>(h->ts.tv_usec) * 1000;
                const std::int64_t t = static_cast<std::int64_t>(h->ts.tv_sec) * ns_per_second + frac;
                if (detail::frame_to_packet<Size, Protocols>(dlt_, data, h->caplen, h->len, t, stats_, out, tunnels_)) {
                    if (deadline_passed()) return false;  // the packet arrived after the duration
                    return true;
                }
                continue;
            }
            if (rc == PCAP_ERROR_BREAK) return false;
            if (rc != 0) {
                const char* why = pcap_geterr(handle_.p);
                throw io_error(location{iface_}, std::string("capture failed: ") + (why && *why ? why : "read error"));
            }
            // Nothing yet: wait, but never past the deadline or longer than timeout_ms.
            if (deadline_passed()) return false;
            if (fd_ >= 0) wait_readable();
        }
    }

    // Makes next() return false within timeout_ms; safe to call from any thread or a signal handler.
    void stop() noexcept { stop_requested_.store(true, std::memory_order_relaxed); }
    [[nodiscard]] bool stopped() const noexcept { return stop_requested_.load(std::memory_order_relaxed); }

    // Kernel counters: frames received and dropped by the ring or the interface.
    [[nodiscard]] pcap_stat kernel_stats() const {
        pcap_stat s{};
        if (pcap_stats(handle_.p, &s) != 0) {
            const char* why = pcap_geterr(handle_.p);
            throw io_error(location{iface_}, std::string("cannot read capture statistics: ") + (why ? why : ""));
        }
        return s;
    }

    [[nodiscard]] int link_type() const noexcept { return dlt_; }
    [[nodiscard]] bool nanosecond_timestamps() const noexcept { return nano_; }
    [[nodiscard]] const std::string& interface_name() const noexcept { return iface_; }
    [[nodiscard]] const live_options& options() const noexcept { return opt_; }
    [[nodiscard]] const capture_stats& stats() const noexcept { return stats_; }
    // GRE and GTP-U: the outer packet (default) or the tunnelled one is the flow's (decode/frame.hpp).
    void set_tunnels(decode::tunnel_mode m) noexcept { tunnels_ = m; }

private:
    using clock = std::chrono::steady_clock;

    [[noreturn]] void fail_open(const char* why) const {
        throw io_error(location{iface_},
                       "cannot capture on interface " + iface_ + ": " + (why && *why ? why : "unknown error"));
    }

    void set_filter(const std::string& expr) {
        bpf_program prog{};
        if (pcap_compile(handle_.p, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
            throw format_error(location{iface_},
                               "invalid capture filter \"" + expr + "\": " + pcap_geterr(handle_.p));
        const int rc = pcap_setfilter(handle_.p, &prog);
        pcap_freecode(&prog);
        if (rc != 0)
            throw io_error(location{iface_}, "cannot set capture filter \"" + expr + "\": " + pcap_geterr(handle_.p));
    }

    [[nodiscard]] bool deadline_passed() const noexcept {
        return opt_.duration.count() > 0 && clock::now() - start_ >= opt_.duration;
    }

    void wait_readable() const noexcept {
        auto wait = std::chrono::milliseconds(opt_.timeout_ms > 0 ? opt_.timeout_ms : 1);
        if (opt_.duration.count() > 0) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(opt_.duration - (clock::now() - start_));
            if (left < wait) wait = left;
        }
        if (wait.count() <= 0) return;
        pollfd pfd{fd_, POLLIN, 0};
        (void)::poll(&pfd, 1, static_cast<int>(wait.count()));  // EINTR: the caller loops and rechecks
    }

    std::string iface_;
    live_options opt_;
    detail::pcap_handle handle_;
    int dlt_ = 0;
    int fd_ = -1;
    bool nano_ = false;
    clock::time_point start_{};
    std::atomic<bool> stop_requested_{false};
    capture_stats stats_;
    decode::tunnel_mode tunnels_ = decode::tunnel_mode::outer;
};

}  // namespace flowpic::source
