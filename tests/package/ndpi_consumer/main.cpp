// A consumer of the installed flowpic::ndpi component: one DNS query through nDPI.
#include <cstdint>
#include <cstdio>
#include <vector>

#include <flowpic/ndpi/flow_classifier.hpp>

int main() {
    // IPv4/UDP 10.0.0.1:40000 -> 10.0.0.2:53, a query for example.com (A)
    const std::vector<std::uint8_t> ip{
        0x45, 0, 0, 57, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,            // IPv4
        0x9c, 0x40, 0, 53, 0, 37, 0, 0,                                                // UDP
        0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,                                      // DNS header
        7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
    flowpic::ndpi::flow_classifier c;
    c.add(1'000'000'000, ip);
    const auto flows = c.finish();
    if (flows.size() != 1) return 1;
    std::printf("flowpic::ndpi (nDPI %s): %s / %s\n", flowpic::ndpi::flow_classifier::ndpi_version().c_str(),
                flows[0].application.c_str(), flows[0].category.c_str());
    return flows[0].application == "DNS" ? 0 : 1;
}
