#pragma once
// What every fuzz target shares: the input as a file the sources can open, and a run of the
// source into two flow tables whose blocks and flows are checked for invariants. flowpic::error is
// the expected outcome of bad input; anything else (a crash, a sanitizer report, another
// exception, a broken invariant) is a finding.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "flowpic/blocks/window_spec.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/blocks/windowed_table.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::fuzz {

// A broken invariant: report it the way a sanitizer would, then abort.
#define FLOWPIC_FUZZ_EXPECT(cond)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "flowpic fuzz: invariant broken: %s (%s:%d)\n", #cond, __FILE__, \
                         __LINE__);                                                                \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

// The input bytes as a file: an in-memory file (memfd), rewritten for every input.
class input_file {
public:
    input_file() {
        fd_ = ::memfd_create("flowpic_fuzz_input", MFD_CLOEXEC);
        if (fd_ < 0) {  // no memfd: a temporary file
            char name[] = "/tmp/flowpic_fuzz_XXXXXX";
            fd_ = ::mkstemp(name);
            if (fd_ < 0) std::abort();
            ::unlink(name);
        }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    input_file(const input_file&) = delete;
    input_file& operator=(const input_file&) = delete;
    ~input_file() { ::close(fd_); }

    const std::string& write(const std::uint8_t* data, std::size_t n) {
        if (::ftruncate(fd_, 0) != 0) std::abort();
        std::size_t done = 0;
        while (done < n) {
            const ssize_t w = ::pwrite(fd_, data + done, n - done, static_cast<off_t>(done));
            if (w <= 0) std::abort();
            done += static_cast<std::size_t>(w);
        }
        return path_;
    }

private:
    int fd_ = -1;
    std::string path_;
};

// f(path) with the input written to `path`; flowpic::error, bad input's expected outcome, caught.
template <class F>
void with_input_file(const std::uint8_t* data, std::size_t n, F&& f) {
    static input_file file;
    const std::string& path = file.write(data, n);
    try {
        f(path);
    } catch (const flowpic::error&) {
    }
}

// Checks every block and flow a table hands out.
struct checking_sink {
    bool inclusive = false;
    std::uint64_t blocks = 0;
    std::uint64_t flows = 0;

    void on_block(const blocks::block& b) {
        ++blocks;
        FLOWPIC_FUZZ_EXPECT(b.owner != nullptr);
        FLOWPIC_FUZZ_EXPECT(!b.packets.empty());
        FLOWPIC_FUZZ_EXPECT(b.window_start_ns < b.window_end_ns);
        std::int64_t prev = b.packets.front().time_ns;
        for (const packet& p : b.packets) {
            FLOWPIC_FUZZ_EXPECT(p.time_ns >= prev);
            FLOWPIC_FUZZ_EXPECT(p.time_ns >= b.window_start_ns);
            FLOWPIC_FUZZ_EXPECT(inclusive ? p.time_ns <= b.window_end_ns : p.time_ns < b.window_end_ns);
            prev = p.time_ns;
        }
    }
    void on_flow_end(const flows::flow& f, flows::end_reason) {
        ++flows;
        FLOWPIC_FUZZ_EXPECT(f.packets >= 1);
        FLOWPIC_FUZZ_EXPECT(f.first_ns <= f.last_ns);
    }
};

// Reads every packet of `src` into a unidirectional table (the authors' overlapping windows,
// bounded flows and buffers) and a bidirectional one (15 s windows, 30 s idle timeout).
// `check` sees every packet first.
template <class Source, class Check>
void run_source(Source& src, Check&& check) {
    blocks::windowed_table<flows::unidirectional> uni(flows::limits{0, 64, 4096}, blocks::specs::shapira2019_overlap);
    blocks::windowed_table<flows::bidirectional> bi(flows::limits{blocks::seconds(30), 0, 0}, blocks::specs::counted15);
    checking_sink a{blocks::specs::shapira2019_overlap.inclusive_end};
    checking_sink b{blocks::specs::counted15.inclusive_end};
    keyed_packet kp;
    std::uint64_t n = 0;
    while (src.next(kp)) {
        ++n;
        check(kp);
        uni.add(kp, a);
        bi.add(kp, b);
    }
    uni.finish(a);
    bi.finish(b);
    FLOWPIC_FUZZ_EXPECT(uni.live_flows() == 0 && bi.live_flows() == 0);
    FLOWPIC_FUZZ_EXPECT(uni.buffered_packets() == 0 && bi.buffered_packets() == 0);
    FLOWPIC_FUZZ_EXPECT(uni.stats().packets == n && bi.stats().packets == n);
}

}  // namespace flowpic::fuzz
