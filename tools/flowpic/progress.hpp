#pragma once
// Progress of a long command: one line on stderr, redrawn in place at most ten times a second,
// only when stderr is a terminal (never into a pipe or a file) and not under --quiet. Cleared
// when done, so that what the command prints after it starts on a clean line. Thread-safe: the
// steps may come from a parallel loop.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include <unistd.h>

namespace flowpic::tool {

[[nodiscard]] inline bool stderr_is_terminal() noexcept { return ::isatty(::fileno(stderr)) == 1; }

class progress_line {
public:
    // `what`: e.g. "flowpic label"; `unit`: what is counted ("captures"); total 0: unknown.
    progress_line(std::string what, std::string unit, std::uint64_t total, bool quiet)
        : what_(std::move(what)), unit_(std::move(unit)), total_(total), on_(!quiet && stderr_is_terminal()) {}
    progress_line(const progress_line&) = delete;
    progress_line& operator=(const progress_line&) = delete;
    ~progress_line() { clear(); }

    [[nodiscard]] bool enabled() const noexcept { return on_; }

    void set_total(std::uint64_t total) noexcept { total_.store(total, std::memory_order_relaxed); }

    // `n` more units done; `note`: shown after the count (e.g. the file at hand).
    void step(std::uint64_t n = 1, const std::string& note = {}) {
        const std::uint64_t done = done_.fetch_add(n, std::memory_order_relaxed) + n;
        if (!on_) return;
        const std::lock_guard lock(mutex_);
        const auto now = clock::now();
        const std::uint64_t total = total_.load(std::memory_order_relaxed);
        if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
        last_ = now;
        drawn_ = true;
        if (total > 0)
            std::fprintf(stderr, "\r\033[K%s: %llu/%llu %s (%.0f%%)%s%s", what_.c_str(), ull(done), ull(total),
                         unit_.c_str(), 100.0 * double(done) / double(total), note.empty() ? "" : " ", note.c_str());
        else
            std::fprintf(stderr, "\r\033[K%s: %llu %s%s%s", what_.c_str(), ull(done), unit_.c_str(),
                         note.empty() ? "" : " ", note.c_str());
        std::fflush(stderr);
    }

    // Erases the line (before other output on stderr, and at the end).
    void clear() {
        if (!on_) return;
        const std::lock_guard lock(mutex_);
        if (!drawn_) return;
        std::fputs("\r\033[K", stderr);
        std::fflush(stderr);
        drawn_ = false;
    }

private:
    using clock = std::chrono::steady_clock;
    static unsigned long long ull(std::uint64_t v) noexcept { return static_cast<unsigned long long>(v); }

    std::string what_, unit_;
    std::atomic<std::uint64_t> total_;
    std::atomic<std::uint64_t> done_{0};
    bool on_;
    bool drawn_ = false;
    std::mutex mutex_;
    clock::time_point last_{};
};

}  // namespace flowpic::tool
