// flowpic-link-emulator --a IF --b IF [--seed N] [--up SPEC] [--down SPEC] [--stats FILE]:
// a user-space WAN link between two interfaces (the traffic lab's kernels have no netem).
// An L2 bridge over AF_PACKET sockets: every frame received on one side goes through that
// direction's link_model (delay, jitter, loss, rate with a bounded queue, reordering) and is
// sent, at its departure time, out of the other side. "up" is a -> b (client to server), "down"
// is b -> a. Counters go to stdout as one JSON line on SIGTERM/SIGINT (and SIGUSR1), and to
// --stats FILE at exit. docs/lab.md ("WAN emulation") has the semantics.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "link_model.hpp"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace le = flowpic::link_emulator;

namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_report = 0;

void on_signal(int sig) {
    if (sig == SIGUSR1) g_report = 1;
    else g_stop = 1;
}

le::nanoseconds now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<le::nanoseconds>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "flowpic-link-emulator: %s\n", what.c_str());
    std::exit(1);
}

int open_side(const std::string& ifname) {
    const unsigned index = if_nametoindex(ifname.c_str());
    if (index == 0) die("no interface '" + ifname + "': " + std::strerror(errno));
    // protocol 0 until bound: no frame of another interface slips in before bind()
    const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die(std::string("AF_PACKET socket (needs CAP_NET_RAW): ") + std::strerror(errno));
    const int one = 1;
    // our own transmissions would come back as PACKET_OUTGOING: a loop
    (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0)
        die(std::string("PACKET_AUXDATA: ") + std::strerror(errno));
    const int buf = 8 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(index);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0)
        die("bind to '" + ifname + "': " + std::strerror(errno));
    packet_mreq mr{};
    mr.mr_ifindex = static_cast<int>(index);
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0)
        die("promiscuous mode on '" + ifname + "': " + std::strerror(errno));
    return fd;
}

// --- checksums: frames from a veth whose peer offloads them carry only the pseudo-header sum
// (TP_STATUS_CSUMNOTREADY); sent as they are, the receiver would drop them, so fill them in.

std::uint32_t sum16(const std::uint8_t* p, std::size_t n, std::uint32_t s = 0) {
    for (; n > 1; p += 2, n -= 2) s += static_cast<std::uint32_t>(p[0] << 8 | p[1]);
    if (n) s += static_cast<std::uint32_t>(p[0] << 8);
    return s;
}

std::uint16_t fold(std::uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(~s & 0xffff);
}

void fill_l4_checksum(std::uint8_t* f, std::size_t len) {
    if (len < 14) return;
    const unsigned type = static_cast<unsigned>(f[12] << 8 | f[13]);
    std::uint8_t* ip = f + 14;
    const std::size_t room = len - 14;
    std::uint32_t s = 0;
    unsigned proto = 0;
    std::size_t l4len = 0;
    std::uint8_t* l4 = nullptr;
    if (type == 0x0800 && room >= 20) {
        const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
        const std::size_t total = static_cast<std::size_t>(ip[2] << 8 | ip[3]);
        if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || total > room) return;
        if ((ip[6] & 0x3f) != 0 || ip[7] != 0) return;  // a fragment
        proto = ip[9];
        l4 = ip + ihl;
        l4len = total - ihl;
        s = sum16(ip + 12, 8);
    } else if (type == 0x86dd && room >= 40) {
        const std::size_t payload = static_cast<std::size_t>(ip[4] << 8 | ip[5]);
        if (40 + payload > room) return;
        proto = ip[6];
        l4 = ip + 40;
        l4len = payload;
        s = sum16(ip + 8, 32);
    } else {
        return;
    }
    std::size_t at = 0;
    if (proto == 6 && l4len >= 20) at = 16;
    else if (proto == 17 && l4len >= 8) at = 6;
    else return;
    s += proto + static_cast<std::uint32_t>(l4len & 0xffff) + static_cast<std::uint32_t>(l4len >> 16);
    l4[at] = l4[at + 1] = 0;
    std::uint16_t c = fold(sum16(l4, l4len, s));
    if (proto == 17 && c == 0) c = 0xffff;
    l4[at] = static_cast<std::uint8_t>(c >> 8);
    l4[at + 1] = static_cast<std::uint8_t>(c & 0xff);
}

struct pending {
    le::nanoseconds depart;
    std::uint64_t seq;
    std::vector<std::uint8_t> frame;
};

struct later {
    bool operator()(const pending& x, const pending& y) const {
        return x.depart != y.depart ? x.depart > y.depart : x.seq > y.seq;
    }
};

struct counters {
    std::uint64_t received = 0, forwarded = 0, dropped_loss = 0, dropped_queue = 0, send_errors = 0, checksums = 0;
};

// One direction: frames read from `in`, modelled, sent on `out` in departure order.
struct direction {
    const char* name;
    int in = -1, out = -1;
    le::link_model model;
    std::vector<pending> heap;  // min-heap on (depart, seq)
    std::uint64_t seq = 0;
    counters c;
    le::nanoseconds retry_at = 0;  // the peer's queue was full: wait a little

    static constexpr std::size_t max_queued = 200'000;  // memory bound, counted as queue drops

    void receive(std::vector<std::uint8_t>& buf) {
        for (int burst = 0; burst < 256; ++burst) {
            sockaddr_ll from{};
            char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
            iovec iov{buf.data(), buf.size()};
            msghdr msg{};
            msg.msg_name = &from;
            msg.msg_namelen = sizeof from;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            const ssize_t n = recvmsg(in, &msg, MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EINTR) continue;
                return;  // EAGAIN: drained
            }
            if (from.sll_pkttype == PACKET_OUTGOING) continue;  // kernels without PACKET_IGNORE_OUTGOING
            const le::nanoseconds t = now_ns();
            const auto len = static_cast<std::size_t>(n);
            ++c.received;
            bool fix = false;
            for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
                if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA) {
                    tpacket_auxdata aux{};
                    std::memcpy(&aux, CMSG_DATA(cm), sizeof aux);
                    fix = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
                }
            }
            const le::decision d = model.offer(t, len);
            if (d.what == le::verdict::drop_loss) {
                ++c.dropped_loss;
                continue;
            }
            if (d.what == le::verdict::drop_queue || heap.size() >= max_queued) {
                ++c.dropped_queue;
                continue;
            }
            std::vector<std::uint8_t> frame(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(len));
            if (fix) {
                fill_l4_checksum(frame.data(), frame.size());
                ++c.checksums;
            }
            heap.push_back({d.depart, seq++, std::move(frame)});
            std::push_heap(heap.begin(), heap.end(), later{});
        }
    }

    void send_due(le::nanoseconds now) {
        if (retry_at > now) return;
        retry_at = 0;
        while (!heap.empty() && heap.front().depart <= now) {
            const auto& f = heap.front().frame;
            if (send(out, f.data(), f.size(), MSG_DONTWAIT) < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == ENOBUFS) {
                    retry_at = now + 50'000;  // the other side is backed up: it is a queue too
                    return;
                }
                ++c.send_errors;  // e.g. EMSGSIZE: a frame larger than the other side's MTU
            } else {
                ++c.forwarded;
            }
            std::pop_heap(heap.begin(), heap.end(), later{});
            heap.pop_back();
        }
    }

    [[nodiscard]] le::nanoseconds next_event() const {
        if (heap.empty()) return -1;
        return std::max(heap.front().depart, retry_at);
    }
};

// frames the kernel dropped before we read them (socket buffer full); reading resets the count
std::uint64_t socket_drops(int fd, std::uint64_t& total) {
    tpacket_stats st{};
    socklen_t len = sizeof st;
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) total += st.tp_drops;
    return total;
}

std::string json(const direction& d, std::uint64_t drops) {
    char b[512];
    std::snprintf(b, sizeof b,
                  "{\"received\":%llu,\"forwarded\":%llu,\"dropped_loss\":%llu,\"dropped_queue\":%llu,"
                  "\"queued\":%zu,\"send_errors\":%llu,\"checksums_filled\":%llu,\"socket_drops\":%llu}",
                  static_cast<unsigned long long>(d.c.received), static_cast<unsigned long long>(d.c.forwarded),
                  static_cast<unsigned long long>(d.c.dropped_loss),
                  static_cast<unsigned long long>(d.c.dropped_queue), d.heap.size(),
                  static_cast<unsigned long long>(d.c.send_errors), static_cast<unsigned long long>(d.c.checksums),
                  static_cast<unsigned long long>(drops));
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"flowpic-link-emulator: a user-space WAN link (delay, jitter, loss, rate, queue, reordering) "
                 "bridging two interfaces; SPEC is key=value,... with keys delay, jitter (times: 40ms), "
                 "loss, reorder (probabilities: 0.01 or 1%), burst (mean frames per loss run), rate "
                 "(8mbit, 512kbit; 0 = unlimited), queue (100ms or 64kb, tail drop)"};
    std::string a_if, b_if, up_text, down_text, stats_file;
    std::uint64_t seed = 1;
    bool quiet = false;
    app.add_option("--a", a_if, "the client's side (frames from it go up)")->required();
    app.add_option("--b", b_if, "the server's side (frames from it go down)")->required();
    app.add_option("--seed", seed, "seed of every random decision (same seed, same decisions)")->capture_default_str();
    app.add_option("--up", up_text, "the a -> b direction's SPEC (client to server)");
    app.add_option("--down", down_text, "the b -> a direction's SPEC (server to client)");
    app.add_option("--stats", stats_file, "write the counters (one JSON line) to FILE at exit");
    app.add_flag("--quiet", quiet, "no 'ready' line on stderr");
    CLI11_PARSE(app, argc, argv);

    le::link_spec up_spec, down_spec;
    try {
        up_spec = le::parse_spec(up_text);
    } catch (const le::spec_error& e) {
        die(std::string("--up: ") + e.what());
    }
    try {
        down_spec = le::parse_spec(down_text);
    } catch (const le::spec_error& e) {
        die(std::string("--down: ") + e.what());
    }
    if (a_if == b_if) die("--a and --b name the same interface '" + a_if + "'");

    sigset_t block{}, wait_mask{};
    sigemptyset(&block);
    for (int s : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&block, s);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);  // delivered only inside ppoll: no lost wake-up
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGTERM, SIGINT, SIGUSR1}) sigaction(s, &sa, nullptr);
    for (int s : {SIGTERM, SIGINT, SIGUSR1}) sigdelset(&wait_mask, s);

    const int fa = open_side(a_if), fb = open_side(b_if);
    direction up{"up", fa, fb, le::link_model(up_spec, le::direction_seed(seed, 0)), {}, 0, {}, 0};
    direction down{"down", fb, fa, le::link_model(down_spec, le::direction_seed(seed, 1)), {}, 0, {}, 0};
    std::vector<std::uint8_t> buf(65536 + 64);
    if (!quiet) std::fprintf(stderr, "flowpic-link-emulator: ready, %s <-> %s\n", a_if.c_str(), b_if.c_str());

    std::uint64_t drops_a = 0, drops_b = 0;
    const auto report = [&] {
        return "{\"seed\":" + std::to_string(seed) + ",\"up\":" + json(up, socket_drops(fa, drops_a)) +
               ",\"down\":" + json(down, socket_drops(fb, drops_b)) + "}\n";
    };
    pollfd fds[2] = {{fa, POLLIN, 0}, {fb, POLLIN, 0}};
    while (!g_stop) {
        le::nanoseconds now = now_ns();
        up.send_due(now);
        down.send_due(now);
        le::nanoseconds next = -1;
        for (const direction* d : {&up, &down}) {
            const le::nanoseconds e = d->next_event();
            if (e >= 0 && (next < 0 || e < next)) next = e;
        }
        timespec ts{};
        timespec* timeout = nullptr;
        if (next >= 0) {
            const le::nanoseconds wait = std::max<le::nanoseconds>(0, next - now_ns());
            ts.tv_sec = static_cast<time_t>(wait / 1'000'000'000);
            ts.tv_nsec = static_cast<long>(wait % 1'000'000'000);
            timeout = &ts;
        }
        const int r = ppoll(fds, 2, timeout, &wait_mask);
        if (r < 0 && errno != EINTR) die(std::string("ppoll: ") + std::strerror(errno));
        if (g_report) {
            g_report = 0;
            std::fputs(report().c_str(), stdout);
            std::fflush(stdout);
        }
        if (r > 0) {
            if (fds[0].revents & POLLIN) up.receive(buf);
            if (fds[1].revents & POLLIN) down.receive(buf);
            if ((fds[0].revents | fds[1].revents) & (POLLERR | POLLHUP | POLLNVAL)) {
                std::fprintf(stderr, "flowpic-link-emulator: an interface went away; stopping\n");
                break;  // the counters are still worth writing
            }
        }
    }
    const std::string line = report();
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
    if (!stats_file.empty()) {
        const std::string tmp = stats_file + ".tmp";
        if (FILE* f = std::fopen(tmp.c_str(), "w")) {
            std::fputs(line.c_str(), f);
            const bool ok = std::fclose(f) == 0;
            if (!ok || std::rename(tmp.c_str(), stats_file.c_str()) != 0) die("cannot write " + stats_file);
        } else {
            die("cannot write " + stats_file + ": " + std::strerror(errno));
        }
    }
    close(fa);
    close(fb);
    return 0;
}
