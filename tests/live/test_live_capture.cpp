// live_capture on a veth pair between two namespaces of this process: known UDP and TCP traffic
// goes from one namespace to the other, and what the capture hands out must match it exactly.
// Oracles: the payload sizes we send (UDP: IP size = 28 + payload) and the kernel's own TCP
// segment counters (TCP_INFO), with TCP options pinned by the lab (SYN 44 bytes, others 40 + payload).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iterator>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/flows/flow_table.hpp"
#include "flowpic/source/live_capture.hpp"
#include "netns_lab.hpp"

using namespace flowpic;
using namespace std::chrono_literals;
using flowpic::test::lab;

namespace {

using capture = source::live_capture<>;

struct socket_fd {
    int fd = -1;
    socket_fd() = default;
    explicit socket_fd(int f) : fd(f) {}
    socket_fd(socket_fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    socket_fd& operator=(socket_fd&& o) noexcept {
        std::swap(fd, o.fd);
        return *this;
    }
    ~socket_fd() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void sys_fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

sockaddr_in inet(const std::string& ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    return a;
}

// A socket of namespace `ns`, bound to ip:port (port 0: any), with 3 s timeouts on every call.
socket_fd socket_in(const std::string& ns, int type, const std::string& ip, std::uint16_t port) {
    socket_fd s;
    test::run_in_netns(ns, [&] { s.fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0); });
    if (s.fd < 0) sys_fail("socket");
    const int one = 1;
    ::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    timeval tv{3, 0};
    ::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const sockaddr_in a = inet(ip, port);
    if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) sys_fail("bind " + ip);
    return s;
}

std::uint16_t local_port(int fd) {
    sockaddr_in a{};
    socklen_t n = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    return ntohs(a.sin_port);
}

std::int64_t realtime_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * ns_per_second + ts.tv_nsec;
}

void send_all(int fd, std::size_t n) {
    const std::vector<char> buf(n, 'x');
    std::size_t off = 0;
    while (off < n) {
        const ssize_t k = ::send(fd, buf.data() + off, n - off, MSG_NOSIGNAL);
        if (k <= 0) sys_fail("send");
        off += static_cast<std::size_t>(k);
    }
}

void recv_exactly(int fd, std::size_t n) {
    std::vector<char> buf(n + 1);
    std::size_t got = 0;
    while (got < n) {
        const ssize_t k = ::recv(fd, buf.data() + got, n - got, 0);
        if (k <= 0) sys_fail("recv (expected " + std::to_string(n) + " bytes, got " + std::to_string(got) + ")");
        got += static_cast<std::size_t>(k);
    }
}

std::unique_ptr<capture> open_capture(source::live_options o = {}) {
    std::unique_ptr<capture> c;
    test::run_in_netns(lab().ns_a, [&] { c = std::make_unique<capture>(lab().veth_a, o); });
    return c;
}

// Takes what a capture hands out, on a thread of its own, until the capture ends or is stopped.
class collector {
public:
    explicit collector(capture& c) : cap_(c), thread_([this] { run(); }) {}
    collector(const collector&) = delete;
    collector& operator=(const collector&) = delete;
    ~collector() {
        cap_.stop();
        if (thread_.joinable()) thread_.join();
    }

    // Lets the last packets arrive, stops the capture and returns everything it handed out.
    std::vector<keyed_packet> finish(std::chrono::milliseconds settle = 300ms) {
        std::this_thread::sleep_for(settle);
        cap_.stop();
        thread_.join();
        if (error_) std::rethrow_exception(error_);
        return std::move(packets_);
    }
    // True once next() has returned false without stop().
    bool wait_ended(std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!ended_.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
        return ended_.load();
    }

private:
    void run() {
        try {
            keyed_packet kp;
            while (cap_.next(kp)) packets_.push_back(kp);
        } catch (...) {
            error_ = std::current_exception();
        }
        ended_.store(true);
    }

    capture& cap_;
    std::vector<keyed_packet> packets_;
    std::exception_ptr error_;
    std::atomic<bool> ended_{false};
    std::thread thread_;
};

flow_key key_of(const std::string& src, const std::string& dst, std::uint16_t sport, std::uint16_t dport,
                std::uint8_t proto) {
    flow_key k;
    k.src = *ip_address::parse(src);
    k.dst = *ip_address::parse(dst);
    k.sport = sport;
    k.dport = dport;
    k.proto = proto;
    return k;
}

std::map<flow_key, std::vector<std::uint32_t>> sizes_by_key(const std::vector<keyed_packet>& pkts) {
    std::map<flow_key, std::vector<std::uint32_t>> m;
    for (const auto& kp : pkts) m[kp.key].push_back(kp.pkt.size);
    return m;
}

// UDP ping-pong from the sender namespace: request i carries req[i] bytes, the reply rep(req[i]).
struct udp_exchange {
    std::uint16_t client_port, server_port;
    std::vector<std::size_t> requests{1, 100, 512, 1000, 1472, 37, 0};  // 1472: a full 1500-byte frame
    static std::size_t reply_size(std::size_t req) { return req / 2 + 3; }

    void run() const {
        socket_fd server = socket_in(lab().ns_a, SOCK_DGRAM, lab().addr_a, server_port);
        socket_fd client = socket_in(lab().ns_b, SOCK_DGRAM, lab().addr_b, client_port);
        const sockaddr_in to_server = inet(lab().addr_a, server_port);
        std::vector<char> buf(2048, 'u');
        for (std::size_t n : requests) {
            if (::sendto(client.fd, buf.data(), n, 0, reinterpret_cast<const sockaddr*>(&to_server), sizeof to_server) !=
                static_cast<ssize_t>(n))
                sys_fail("sendto");
            sockaddr_in from{};
            socklen_t fl = sizeof from;
            const ssize_t got = ::recvfrom(server.fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
            if (got != static_cast<ssize_t>(n)) sys_fail("server recvfrom");
            const std::size_t r = reply_size(n);
            if (::sendto(server.fd, buf.data(), r, 0, reinterpret_cast<const sockaddr*>(&from), fl) != static_cast<ssize_t>(r))
                sys_fail("server sendto");
            if (::recv(client.fd, buf.data(), buf.size(), 0) != static_cast<ssize_t>(r)) sys_fail("client recv");
        }
    }
};

// TCP request/response, then an orderly close; the client's TCP_INFO counts the segments.
struct tcp_exchange {
    std::uint16_t server_port;
    std::vector<std::size_t> requests{10, 200, 1000, 1460};  // 1460: one full MSS
    std::vector<std::size_t> replies{1400, 5, 700, 1};
    std::uint16_t client_port = 0;
    std::uint32_t segs_out = 0, segs_in = 0, mss = 0;

    void run() {
        socket_fd listener = socket_in(lab().ns_a, SOCK_STREAM, lab().addr_a, server_port);
        if (::listen(listener.fd, 1) != 0) sys_fail("listen");
        std::exception_ptr server_error;
        std::thread server([&] {
            try {
                socket_fd conn(::accept(listener.fd, nullptr, nullptr));
                if (conn.fd < 0) sys_fail("accept");
                const int one = 1;
                ::setsockopt(conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                for (std::size_t i = 0; i < requests.size(); ++i) {
                    recv_exactly(conn.fd, requests[i]);
                    send_all(conn.fd, replies[i]);
                }
                char c;
                if (::recv(conn.fd, &c, 1, 0) != 0) sys_fail("server: expected the client's FIN");
            } catch (...) {
                server_error = std::current_exception();
            }
        });
        try {
            socket_fd client = socket_in(lab().ns_b, SOCK_STREAM, lab().addr_b, 0);
            const int one = 1;
            ::setsockopt(client.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            const sockaddr_in to = inet(lab().addr_a, server_port);
            if (::connect(client.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) sys_fail("connect");
            client_port = local_port(client.fd);
            for (std::size_t i = 0; i < requests.size(); ++i) {
                send_all(client.fd, requests[i]);
                recv_exactly(client.fd, replies[i]);
            }
            ::shutdown(client.fd, SHUT_WR);
            char c;
            if (::recv(client.fd, &c, 1, 0) != 0) sys_fail("client: expected the server's FIN");
            // The client has acknowledged the server's FIN before its read returns 0.
            tcp_info info{};
            socklen_t n = sizeof info;
            if (::getsockopt(client.fd, IPPROTO_TCP, TCP_INFO, &info, &n) != 0) sys_fail("TCP_INFO");
            segs_out = info.tcpi_segs_out;
            segs_in = info.tcpi_segs_in;
            mss = info.tcpi_snd_mss;
        } catch (...) {
            server.join();
            throw;
        }
        server.join();
        if (server_error) std::rethrow_exception(server_error);
    }
};

// A source over packets already taken, to run the flow table on them.
struct vector_source {
    const std::vector<keyed_packet>* v;
    std::size_t i = 0;
    bool next(keyed_packet& out) {
        if (i == v->size()) return false;
        out = (*v)[i++];
        return true;
    }
};

}  // namespace

TEST_CASE("live capture on a veth pair: exact UDP and TCP flows, packet counts and IP sizes") {
    auto cap = open_capture();
    CHECK(cap->link_type() == 1);  // Ethernet
    CHECK(cap->nanosecond_timestamps());
    const std::int64_t t0 = realtime_ns();
    collector col(*cap);

    udp_exchange udp{6001, 5001};
    tcp_exchange tcp{5002};
    udp.run();
    tcp.run();
    const std::int64_t t1 = realtime_ns();
    const std::vector<keyed_packet> pkts = col.finish();

    const auto& a = lab().addr_a;
    const auto& b = lab().addr_b;
    const flow_key udp_ab = key_of(b, a, 6001, 5001, 17), udp_ba = key_of(a, b, 5001, 6001, 17);
    const flow_key tcp_ab = key_of(b, a, tcp.client_port, 5002, 6), tcp_ba = key_of(a, b, 5002, tcp.client_port, 6);
    const auto by_key = sizes_by_key(pkts);
    REQUIRE(by_key.size() == 4);  // nothing else travels in the lab
    REQUIRE(by_key.count(udp_ab) == 1);
    REQUIRE(by_key.count(udp_ba) == 1);
    REQUIRE(by_key.count(tcp_ab) == 1);
    REQUIRE(by_key.count(tcp_ba) == 1);

    // UDP: one packet per datagram, IP size = 20 + 8 + payload, in order.
    std::vector<std::uint32_t> want_req, want_rep;
    for (auto n : udp.requests) {
        want_req.push_back(static_cast<std::uint32_t>(28 + n));
        want_rep.push_back(static_cast<std::uint32_t>(28 + udp_exchange::reply_size(n)));
    }
    CHECK(by_key.at(udp_ab) == want_req);
    CHECK(by_key.at(udp_ba) == want_rep);

    // TCP: as many packets as the kernel sent and received; every packet 40 bytes plus payload,
    // SYNs 44; the data-carrying ones in the order they were written.
    REQUIRE(tcp.mss == 1460);
    const auto& up = by_key.at(tcp_ab);
    const auto& down = by_key.at(tcp_ba);
    CHECK(up.size() == tcp.segs_out);
    CHECK(down.size() == tcp.segs_in);
    const auto sum = [](const auto& v) { return std::accumulate(v.begin(), v.end(), std::uint64_t{0}); };
    CHECK(sum(up) == 44 + 40 * (tcp.segs_out - 1) + sum(tcp.requests));
    CHECK(sum(down) == 44 + 40 * (tcp.segs_in - 1) + sum(tcp.replies));
    std::vector<std::uint32_t> up_data, down_data, want_up{44}, want_down{44};
    std::copy_if(up.begin(), up.end(), std::back_inserter(up_data), [](auto s) { return s != 40; });
    std::copy_if(down.begin(), down.end(), std::back_inserter(down_data), [](auto s) { return s != 40; });
    for (auto n : tcp.requests) want_up.push_back(static_cast<std::uint32_t>(40 + n));
    for (auto n : tcp.replies) want_down.push_back(static_cast<std::uint32_t>(40 + n));
    CHECK(up_data == want_up);
    CHECK(down_data == want_down);

    // Timestamps: nanoseconds of the wall clock, inside the exchange, in order within each flow.
    std::map<flow_key, std::int64_t> last;
    for (const auto& kp : pkts) {
        CHECK(kp.pkt.time_ns >= t0);
        CHECK(kp.pkt.time_ns <= t1);
        auto [it, fresh] = last.try_emplace(kp.key, kp.pkt.time_ns);
        if (!fresh) {
            CHECK(kp.pkt.time_ns >= it->second);
            it->second = kp.pkt.time_ns;
        }
    }
    CHECK(cap->stats().packets == pkts.size());
    CHECK(cap->stats().frames >= pkts.size());
    CHECK(cap->kernel_stats().ps_drop == 0);

    // The same packets through the flow table: four unidirectional flows, two bidirectional.
    {
        std::map<flow_key, flows::flow> got;
        flows::flow_table<flows::unidirectional> table;
        flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) { got[f.key] = f; }};
        vector_source src{&pkts};
        table.consume(src, out);
        REQUIRE(got.size() == 4);
        for (const auto& [k, sizes] : by_key) {
            REQUIRE(got.count(k) == 1);
            CHECK(got[k].packets == sizes.size());
            CHECK(got[k].bytes == sum(sizes));
        }
    }
    {
        std::map<flow_key, flows::flow> got;
        flows::flow_table<flows::bidirectional> table;
        flows::callback_sink out{flows::ignore{}, [&](const flows::flow& f, flows::end_reason) { got[f.key] = f; }};
        vector_source src{&pkts};
        table.consume(src, out);
        REQUIRE(got.size() == 2);
        REQUIRE(got.count(udp_ab) == 1);  // oriented as the first packet went: client -> server
        REQUIRE(got.count(tcp_ab) == 1);
        CHECK(got[udp_ab].packets == 2 * udp.requests.size());
        CHECK(got[tcp_ab].packets == tcp.segs_out + tcp.segs_in);
        CHECK(got[tcp_ab].bytes == sum(up) + sum(down));
    }
}

TEST_CASE("live capture: a BPF filter keeps only what it matches") {
    source::live_options o;
    o.filter = "udp and port 5011";
    auto cap = open_capture(o);
    collector col(*cap);
    udp_exchange udp{6011, 5011};
    udp_exchange other{6012, 5012};
    tcp_exchange tcp{5013};
    udp.run();
    other.run();
    tcp.run();
    const auto by_key = sizes_by_key(col.finish());
    REQUIRE(by_key.size() == 2);
    CHECK(by_key.count(key_of(lab().addr_b, lab().addr_a, 6011, 5011, 17)) == 1);
    CHECK(by_key.count(key_of(lab().addr_a, lab().addr_b, 5011, 6011, 17)) == 1);
    for (const auto& [k, sizes] : by_key) CHECK(sizes.size() == udp.requests.size());
}

TEST_CASE("live capture: a packet count ends the capture after exactly that many packets") {
    source::live_options o;
    o.max_packets = 5;
    o.filter = "udp";
    auto cap = open_capture(o);
    collector col(*cap);
    socket_fd sink = socket_in(lab().ns_a, SOCK_DGRAM, lab().addr_a, 5021);
    socket_fd client = socket_in(lab().ns_b, SOCK_DGRAM, lab().addr_b, 6021);
    const sockaddr_in to = inet(lab().addr_a, 5021);
    const std::vector<std::size_t> payloads{11, 22, 33, 44, 55, 66, 77, 88};
    for (auto n : payloads) {
        const std::vector<char> buf(n, 'c');
        REQUIRE(::sendto(client.fd, buf.data(), n, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
                static_cast<ssize_t>(n));
        std::this_thread::sleep_for(5ms);
    }
    CHECK(col.wait_ended(3s));  // ended by the count, not by stop()
    CHECK_FALSE(cap->stopped());
    const auto pkts = col.finish(0ms);
    REQUIRE(pkts.size() == 5);
    for (std::size_t i = 0; i < pkts.size(); ++i) CHECK(pkts[i].pkt.size == 28 + payloads[i]);
}

TEST_CASE("live capture: a duration ends the capture on time, with or without traffic") {
    SUBCASE("idle interface") {
        source::live_options o;
        o.duration = 400ms;
        const auto start = std::chrono::steady_clock::now();
        auto cap = open_capture(o);
        keyed_packet kp;
        CHECK_FALSE(cap->next(kp));
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(took >= 400ms);
        CHECK(took < 400ms + 1s);  // generous: the machine may be busy
    }
    SUBCASE("steady traffic") {
        source::live_options o;
        o.duration = 300ms;
        o.filter = "udp";
        std::atomic<bool> sending{true};
        socket_fd sink = socket_in(lab().ns_a, SOCK_DGRAM, lab().addr_a, 5031);
        socket_fd client = socket_in(lab().ns_b, SOCK_DGRAM, lab().addr_b, 6031);
        std::thread sender([&] {
            const sockaddr_in to = inet(lab().addr_a, 5031);
            const char buf[64] = {};
            while (sending.load()) {
                ::sendto(client.fd, buf, sizeof buf, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
                std::this_thread::sleep_for(5ms);
            }
        });
        const auto start = std::chrono::steady_clock::now();
        const std::int64_t wall_start = realtime_ns();
        std::size_t n = 0;
        std::int64_t latest = 0;
        {
            auto cap = open_capture(o);
            keyed_packet kp;
            while (cap->next(kp)) {
                ++n;
                latest = std::max(latest, kp.pkt.time_ns);
            }
        }
        const auto took = std::chrono::steady_clock::now() - start;
        sending.store(false);
        sender.join();
        CHECK(n > 10);
        CHECK(took >= 300ms);
        CHECK(took < 300ms + 1s);
        CHECK(latest - wall_start < std::chrono::nanoseconds(300ms + 1s).count());
    }
}

TEST_CASE("live capture: stop() from another thread ends a waiting next()") {
    source::live_options o;
    o.timeout_ms = 50;
    auto cap = open_capture(o);
    const auto start = std::chrono::steady_clock::now();
    std::thread stopper([&] {
        std::this_thread::sleep_for(200ms);
        cap->stop();
    });
    keyed_packet kp;
    const bool got = cap->next(kp);
    const auto took = std::chrono::steady_clock::now() - start;
    stopper.join();
    CHECK_FALSE(got);
    CHECK(took >= 200ms);
    CHECK(took < 200ms + 1s);
}

TEST_CASE("live capture: errors name the interface") {
    SUBCASE("no such device") {
        try {
            test::run_in_netns(lab().ns_a, [] { capture c("fpnosuch0"); });
            FAIL("no error for a missing interface");
        } catch (const io_error& e) {
            CHECK(e.where().file == "fpnosuch0");
            CHECK(std::string(e.what()).find("fpnosuch0") != std::string::npos);
        }
    }
    SUBCASE("invalid filter") {
        source::live_options o;
        o.filter = "udp and and port";
        try {
            open_capture(o);
            FAIL("no error for an invalid filter");
        } catch (const format_error& e) {
            CHECK(e.where().file == lab().veth_a);
            CHECK(std::string(e.what()).find("udp and and port") != std::string::npos);
        }
    }
}

#ifdef FLOWPIC_TOOL
namespace {
struct tool_run {
    int status = -1;
    std::string out, err;
};
tool_run run_tool_in_a(const std::string& args) {
    char err_path[] = "/tmp/flowpic_live_stderr_XXXXXX";
    const int fd = ::mkstemp(err_path);
    if (fd < 0) sys_fail("mkstemp");
    ::close(fd);
    const std::string cmd = "ip netns exec " + lab().ns_a + " " + FLOWPIC_TOOL + " " + args + " 2>" + err_path;
    tool_run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) sys_fail("popen");
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    r.status = ::pclose(p);
    if (FILE* e = std::fopen(err_path, "r")) {
        while ((n = std::fread(buf, 1, sizeof buf, e)) > 0) r.err.append(buf, n);
        std::fclose(e);
    }
    ::unlink(err_path);
    return r;
}
}  // namespace

TEST_CASE("flowpic flows --interface --count: the tool captures live and prints the flow") {
    socket_fd sink = socket_in(lab().ns_a, SOCK_DGRAM, lab().addr_a, 5041);
    socket_fd client = socket_in(lab().ns_b, SOCK_DGRAM, lab().addr_b, 6041);
    std::atomic<bool> sending{true};
    std::thread sender([&] {  // the tool starts capturing at some point: send until it has 6 packets
        const sockaddr_in to = inet(lab().addr_a, 5041);
        const char buf[100] = {};
        const auto until = std::chrono::steady_clock::now() + 20s;
        while (sending.load() && std::chrono::steady_clock::now() < until) {
            ::sendto(client.fd, buf, sizeof buf, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
            std::this_thread::sleep_for(20ms);
        }
    });
    const tool_run r = run_tool_in_a("flows --interface " + lab().veth_a + " --count 6");
    sending.store(false);
    sender.join();
    INFO(r.out);
    INFO(r.err);
    CHECK(WIFEXITED(r.status));
    CHECK(WEXITSTATUS(r.status) == 0);
    // as tcpdump does: the kernel's counters at the end
    CHECK(r.err.find("flowpic: " + lab().veth_a + ": ") != std::string::npos);
    CHECK(r.err.find(" packets received by the kernel, 0 dropped by the kernel, 0 dropped by the interface\n") !=
          std::string::npos);
    const std::string want = std::string("src,dst,sport,dport,proto,packets,bytes,first,last\n") + lab().addr_b + "," +
                             lab().addr_a + ",6041,5041,17,6," + std::to_string(6 * 128) + ",";
    CHECK(r.out.rfind(want, 0) == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 2);
}

TEST_CASE("flowpic blocks --interface --seconds: ends on time on an idle interface") {
    const auto start = std::chrono::steady_clock::now();
    const tool_run r = run_tool_in_a("blocks -i " + lab().veth_a + " --seconds 0.5 --block 1");
    const auto took = std::chrono::steady_clock::now() - start;
    INFO(r.out);
    INFO(r.err);
    CHECK(WIFEXITED(r.status));
    CHECK(WEXITSTATUS(r.status) == 0);
    CHECK(r.err.find("0 dropped by the kernel") != std::string::npos);
    CHECK(r.out == "src,dst,sport,dport,proto,block_start,block_end,index,packets,first,last\n");
    CHECK(took >= 500ms);
    CHECK(took < 5s);
}
#endif
