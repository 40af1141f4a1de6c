#pragma once
// A throw-away network: two namespaces of this process joined by a veth pair, with private
// addresses that exist only inside them. Needs root and `ip` (iproute2).

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

namespace flowpic::test {

// Runs a shell command quietly; true when it exits 0.
inline bool shell(const std::string& cmd) {
    const std::string quiet = cmd + " >/dev/null 2>&1";
    const int rc = std::system(quiet.c_str());
    return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

inline void shell_or_throw(const std::string& cmd) {
    if (!shell(cmd)) throw std::runtime_error("command failed: " + cmd);
}

// Runs f on a thread that has entered namespace `ns`: sockets (and pcap handles) created there
// stay in that namespace whichever thread uses them later.
inline void run_in_netns(const std::string& ns, const std::function<void()>& f) {
    std::exception_ptr ep;
    std::thread t([&] {
        try {
            const std::string path = "/var/run/netns/" + ns;
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
            const int rc = ::setns(fd, CLONE_NEWNET);
            const int err = errno;
            ::close(fd);
            if (rc != 0) throw std::runtime_error("setns " + ns + ": " + std::strerror(err));
            f();
        } catch (...) {
            ep = std::current_exception();
        }
    });
    t.join();
    if (ep) std::rethrow_exception(ep);
}

struct netns_lab {
    static constexpr const char* prefix = "fplive";
    std::string ns_a, ns_b;      // capture side ("server"), sender side ("client")
    std::string veth_a, veth_b;  // veth ends inside ns_a and ns_b
    std::string addr_a = "10.201.0.1", addr_b = "10.201.0.2";
    bool up = false;

    netns_lab() {
        const std::string id = std::to_string(::getpid());
        ns_a = std::string(prefix) + id + "a";
        ns_b = std::string(prefix) + id + "b";
        veth_a = "fpl" + id + "a";  // interface names have at most 15 characters
        veth_b = "fpl" + id + "b";
    }
    netns_lab(const netns_lab&) = delete;
    netns_lab& operator=(const netns_lab&) = delete;
    ~netns_lab() { destroy(); }

    // Namespaces left by a run that was killed (CTest timeout): their owner pid is gone.
    static void remove_stale() {
        FILE* p = ::popen("ip netns list 2>/dev/null", "r");
        if (!p) return;
        char line[256];
        while (std::fgets(line, sizeof line, p)) {
            std::string name(line);
            name = name.substr(0, name.find_first_of(" \n"));
            if (name.rfind(prefix, 0) != 0 || name.size() < std::strlen(prefix) + 2) continue;
            const std::string digits = name.substr(std::strlen(prefix), name.size() - std::strlen(prefix) - 1);
            if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
            const pid_t owner = static_cast<pid_t>(std::stol(digits));
            if (::kill(owner, 0) != 0 && errno == ESRCH) shell("ip netns delete " + name);
        }
        ::pclose(p);
    }

    // Creates both namespaces. IPv6 is off and TCP sends no SACK, window-scale or timestamp
    // options, so that every TCP header is 20 bytes except the SYNs' (20 + 4-byte MSS option).
    void create() {
        remove_stale();
        up = true;
        for (const auto& ns : {ns_a, ns_b}) {
            shell_or_throw("ip netns add " + ns);
            const std::string sys = "ip netns exec " + ns + " sh -c '";
            shell_or_throw(sys + "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
                                 "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; "
                                 "echo 0 > /proc/sys/net/ipv4/tcp_timestamps; "
                                 "echo 0 > /proc/sys/net/ipv4/tcp_sack; "
                                 "echo 0 > /proc/sys/net/ipv4/tcp_window_scaling'");
            shell_or_throw("ip -n " + ns + " link set lo up");
        }
        shell_or_throw("ip link add " + veth_a + " netns " + ns_a + " type veth peer name " + veth_b + " netns " + ns_b);
        // Segments leave as sent: no offloads that would merge them into one big frame.
        for (const auto& [ns, dev] : {std::pair{ns_a, veth_a}, std::pair{ns_b, veth_b}})
            shell("ip netns exec " + ns + " ethtool -K " + dev + " tso off gso off gro off");
        shell_or_throw("ip -n " + ns_a + " addr add " + addr_a + "/24 dev " + veth_a);
        shell_or_throw("ip -n " + ns_b + " addr add " + addr_b + "/24 dev " + veth_b);
        shell_or_throw("ip -n " + ns_a + " link set " + veth_a + " up");
        shell_or_throw("ip -n " + ns_b + " link set " + veth_b + " up");
        // Static neighbours: no ARP exchange in the middle of a test.
        shell("ip -n " + ns_a + " neigh replace " + addr_b + " lladdr $(ip -n " + ns_b + " -br link show " + veth_b +
              " | awk '{print $3}') dev " + veth_a + " nud permanent");
        shell("ip -n " + ns_b + " neigh replace " + addr_a + " lladdr $(ip -n " + ns_a + " -br link show " + veth_a +
              " | awk '{print $3}') dev " + veth_b + " nud permanent");
    }

    void destroy() noexcept {
        if (!up) return;
        up = false;
        shell("ip netns delete " + ns_a);  // takes the veth pair with it
        shell("ip netns delete " + ns_b);
    }
};

// The lab of this test process (created by the main before the tests run).
netns_lab& lab();

}  // namespace flowpic::test
