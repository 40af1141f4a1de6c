// Main of the live-capture tests: builds a two-namespace veth lab, runs the tests, removes the lab.
// Exits 77 (CTest: skipped) with a visible reason where that is not permitted (not root, no
// network namespaces, no iproute2), unless FLOWPIC_REQUIRE_LIVE=1, where that is a failure.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "netns_lab.hpp"

namespace flowpic::test {
namespace {
netns_lab* the_lab = nullptr;
}
netns_lab& lab() { return *the_lab; }
}  // namespace flowpic::test

namespace {
int skip_or_fail(const std::string& why) {
    const char* req = std::getenv("FLOWPIC_REQUIRE_LIVE");
    if (req && std::string(req) == "1") {
        std::fprintf(stderr, "FAILED: FLOWPIC_REQUIRE_LIVE=1 but %s\n", why.c_str());
        return 1;
    }
    std::printf("SKIPPED: live-capture tests need %s\n", why.c_str());
    return 77;
}
}  // namespace

int main(int argc, char** argv) {
    bool listing = false;
    for (int i = 1; i < argc; ++i)
        if (std::strstr(argv[i], "list-test") || std::strstr(argv[i], "-ltc")) listing = true;
    doctest::Context ctx(argc, argv);
    if (listing) return ctx.run();

    if (::geteuid() != 0) return skip_or_fail("root (CAP_NET_ADMIN and CAP_NET_RAW), which this run lacks");
    if (!flowpic::test::shell("ip -V")) return skip_or_fail("iproute2 (the ip command), which is not installed");
    flowpic::test::netns_lab lab;
    try {
        lab.create();
    } catch (const std::exception& e) {
        lab.destroy();
        return skip_or_fail(std::string("network namespaces and veth pairs, which failed here: ") + e.what());
    }
    flowpic::test::the_lab = &lab;
    const int rc = ctx.run();
    lab.destroy();
    return rc;
}
