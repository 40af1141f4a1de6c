#pragma once
// Opens any input the tool reads (a file, by its content, or a live interface) and runs a generic
// callable on the source.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>

#include "damage.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/source/any_file.hpp"
#include "flowpic/source/bpf_filter.hpp"
#include "flowpic/source/damage.hpp"
#include "flowpic/source/live_capture.hpp"
#include "flowpic/source/tunnel_option.hpp"
#include "options.hpp"

namespace flowpic::tool {

// f(source&) over the file at `path` ("-": standard input), read up to a damaged record (reported)
// unless `strict`; only the frames that the BPF expression `filter` passes, when one is given.
template <class F>
decltype(auto) with_source(const std::string& path, F&& f, bool strict = false,
                           decode::tunnel_mode tunnels = decode::tunnel_mode::outer, const std::string& filter = {}) {
    return source::visit_file(path, [&](auto& src) -> decltype(auto) {
        source::set_tunnels(src, tunnels);
        source::set_filter(src, filter, path);
        source::until_damage until(src, damage_mode(strict));
        struct reporter {  // also when f throws after the damage
            const decltype(until)& u;
            ~reporter() {
                if (u.damage()) report_damage(*u.damage());
            }
        } r{until};
        return f(until);
    });
}

namespace detail {
// The capture that Ctrl-C (SIGINT) or SIGTERM stops, so that flows still end and get printed.
inline std::atomic<source::live_capture<>*>& interrupted_capture() {
    static std::atomic<source::live_capture<>*> c{nullptr};
    return c;
}
inline void stop_capture_on_signal(int) {
    if (auto* c = interrupted_capture().load()) c->stop();
}

struct signal_stop_guard {
    void (*old_int)(int);
    void (*old_term)(int);
    explicit signal_stop_guard(source::live_capture<>& c) {
        interrupted_capture().store(&c);
        old_int = std::signal(SIGINT, stop_capture_on_signal);
        old_term = std::signal(SIGTERM, stop_capture_on_signal);
    }
    ~signal_stop_guard() {
        std::signal(SIGINT, old_int);
        std::signal(SIGTERM, old_term);
        interrupted_capture().store(nullptr);
    }
    signal_stop_guard(const signal_stop_guard&) = delete;
    signal_stop_guard& operator=(const signal_stop_guard&) = delete;
};
}  // namespace detail

// The kernel's counters of the last live capture, read when it ended (pcap_stats).
struct live_drops {
    bool valid = false;
    unsigned long long received = 0, dropped = 0, interface_dropped = 0;
};
inline live_drops& last_live_drops() {
    static live_drops d;
    return d;
}

// At the end of a live capture, as tcpdump does: what the kernel received and dropped.
inline void report_live_drops(const source::live_capture<>& c) {
    auto& d = last_live_drops();
    try {
        const pcap_stat s = c.kernel_stats();
        d = {true, s.ps_recv, s.ps_drop, s.ps_ifdrop};
    } catch (const error& e) {
        std::fprintf(stderr, "flowpic: warning: %s\n", e.what());
        return;
    }
    std::fprintf(stderr, "flowpic: %s: %llu packets received by the kernel, %llu dropped by the kernel, %llu dropped by "
                         "the interface\n", c.interface_name().c_str(), d.received, d.dropped, d.interface_dropped);
    if (d.dropped + d.interface_dropped > 0)
        std::fprintf(stderr, "flowpic: warning: %s: %llu packets were dropped before flowpic saw them: flows and "
                             "pictures miss them\n", c.interface_name().c_str(), d.dropped + d.interface_dropped);
}

template <class F>
decltype(auto) with_input(const input_options& in, F&& f) {
    if (!in.live())
        return with_source(in.capture, std::forward<F>(f), in.strict, tunnel_mode_of(in.tunnels), in.filter);
    source::live_options lo;
    lo.filter = in.filter;
    lo.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(in.seconds));
    lo.max_packets = in.count;
    source::live_capture<> src(in.interface_name, lo);
    src.set_tunnels(tunnel_mode_of(in.tunnels));
    detail::signal_stop_guard guard(src);
    struct reporter {  // once the capture ended, unless f failed
        const source::live_capture<>& c;
        int exceptions = std::uncaught_exceptions();
        ~reporter() {
            if (std::uncaught_exceptions() == exceptions) report_live_drops(c);
        }
    } r{src};
    return f(src);
}

}  // namespace flowpic::tool
