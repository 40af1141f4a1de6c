#pragma once
// Opens a file by its content (pcap, pcapng, and the CSV and workload formats) and hands the
// matching source to a generic callable.

#include <array>
#include <cstdio>
#include <cstring>
#include <string>

#include "flowpic/core/error.hpp"
#include "flowpic/source/pcap_file.hpp"

namespace flowpic::source {

enum class file_format { pcap, pcapng, unknown };

[[nodiscard]] inline file_format sniff_format(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw io_error(location{path}, std::string("cannot open: ") + std::strerror(errno));
    std::array<unsigned char, 16> head{};
    const std::size_t n = std::fread(head.data(), 1, head.size(), f);
    std::fclose(f);
    if (n >= 4) {
        const std::uint32_t m = static_cast<std::uint32_t>(head[0]) | (static_cast<std::uint32_t>(head[1]) << 8) |
                                (static_cast<std::uint32_t>(head[2]) << 16) | (static_cast<std::uint32_t>(head[3]) << 24);
        switch (m) {
            case 0xa1b2c3d4: case 0xd4c3b2a1: case 0xa1b23c4d: case 0x4d3cb2a1: return file_format::pcap;
            case 0x0a0d0d0a: return file_format::pcapng;
            default: break;
        }
    }
    return file_format::unknown;
}

// Calls f(source&) with the source that reads `path`.
template <class Size = size::ip_length, class F>
decltype(auto) visit_file(const std::string& path, F&& f) {
    switch (sniff_format(path)) {
        case file_format::pcap:
        case file_format::pcapng: {
            pcap_file<Size> s(path);
            return f(s);
        }
        default: {
            pcap_file<Size> s(path);  // libpcap names what is wrong with the file
            return f(s);
        }
    }
}

}  // namespace flowpic::source
