#pragma once
// Opens any input the tool reads (a file, by its content, or a live interface) and runs a generic
// callable on the source.

#include <atomic>
#include <chrono>
#include <csignal>
#include <string>

#include "flowpic/source/any_file.hpp"
#include "flowpic/source/live_capture.hpp"
#include "options.hpp"

namespace flowpic::tool {

template <class F>
decltype(auto) with_source(const std::string& path, F&& f) {
    return source::visit_file(path, std::forward<F>(f));
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

template <class F>
decltype(auto) with_input(const input_options& in, F&& f) {
    if (!in.live()) return with_source(in.capture, std::forward<F>(f));
    source::live_options lo;
    lo.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(in.seconds));
    lo.max_packets = in.count;
    source::live_capture<> src(in.interface_name, lo);
    detail::signal_stop_guard guard(src);
    return f(src);
}

}  // namespace flowpic::tool
