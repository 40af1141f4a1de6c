#pragma once
// Labelled flows as packet records: the compact binary format of the traffic lab's dataset
// (data/lab, docs/lab.md). A file is read and checked whole on opening; bad input throws
// format_error with the byte offset of the offending field.
//
// Layout, all integers little-endian:
//   header (64 B)   magic "FPRECORD", u16 version (1), u16 header size (64), u16 flow entry size (64),
//                   u16 packet record size (6), u32 flows, u32 strings, u64 packets,
//                   u64 strings offset, u64 flows offset, u64 packets offset, u64 file size
//   strings         u16 length + UTF-8 bytes each: application names and capture file names
//   flows (64 B)    src[16], dst[16] (IPv4 in the first 4 bytes), u16 sport, u16 dport, u8 protocol,
//                   u8 family (4, 6), u8 category, u8 vpn (0, 1), u16 application (string),
//                   u16 capture (string), u32 packets, i64 first packet time (ns since the epoch),
//                   u64 first packet record (flows are stored back to back)
//   packets (6 B)   u32 microseconds since the flow's first packet (non-decreasing), u16 size in
//                   bits 0-14 (IP total length, 1..32767) and the direction in bit 15 (1: reverse)

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flowpic/core/error.hpp"
#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/ip_address.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/source/csv_util.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::source {

// The five FlowPic classes, numbered as the reference numbers its labels.
enum class category : std::uint8_t { voip = 0, video = 1, file_transfer = 2, chat = 3, browsing = 4 };

inline constexpr std::array<std::string_view, 5> category_names{"voip", "video", "file_transfer", "chat",
                                                                 "browsing"};

[[nodiscard]] constexpr std::string_view name(category c) noexcept {
    return category_names[static_cast<std::size_t>(c)];
}

[[nodiscard]] constexpr std::optional<category> parse_category(std::string_view s) noexcept {
    for (std::size_t i = 0; i < category_names.size(); ++i)
        if (category_names[i] == s) return static_cast<category>(i);
    return std::nullopt;
}

// One flow of the file; the views point into the reader and live as long as it does.
struct flow_record {
    flow_key key;                  // key.session = flow index + 1, so flows of different captures never merge
    category label = category::voip;
    bool vpn = false;
    std::string_view application;  // e.g. "hls-https", "sftp"
    std::string_view capture;      // the lab capture it came from, as the manifest names it
    std::uint32_t packets = 0;
    std::int64_t first_ns = 0;
    std::uint64_t first_packet = 0;  // index of its first packet record
};

namespace detail::records {

inline constexpr std::array<char, 8> magic{'F', 'P', 'R', 'E', 'C', 'O', 'R', 'D'};
inline constexpr std::uint16_t version = 1;
inline constexpr std::size_t header_size = 64;
inline constexpr std::size_t flow_size = 64;
inline constexpr std::size_t packet_size = 6;

template <class T>
[[nodiscard]] inline T le(const std::uint8_t* p) noexcept {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(p[i]) << (8 * i));
    return v;
}

}  // namespace detail::records

class flow_records {
public:
    static constexpr bool time_ordered = false;  // next() hands out one flow after another

    explicit flow_records(std::string path) : name_(std::move(path)) {
        std::ifstream in(name_, std::ios::binary);
        if (!in) throw io_error(location{name_}, "cannot open");
        bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        if (in.bad()) throw io_error(location{name_}, "read error");
        parse();
    }

    // Reads a file already in memory; `name` is what errors call it.
    flow_records(std::vector<std::uint8_t> bytes, std::string name) : name_(std::move(name)), bytes_(std::move(bytes)) {
        parse();
    }

    // The flows' string views point into this object's buffer: move it, never copy it.
    flow_records(const flow_records&) = delete;
    flow_records& operator=(const flow_records&) = delete;
    flow_records(flow_records&&) noexcept = default;
    flow_records& operator=(flow_records&&) noexcept = default;

    [[nodiscard]] std::size_t flow_count() const noexcept { return flows_.size(); }
    [[nodiscard]] std::uint64_t packet_count() const noexcept { return packets_; }
    [[nodiscard]] std::span<const flow_record> flows() const noexcept { return flows_; }
    [[nodiscard]] const flow_record& flow(std::size_t i) const { return flows_.at(i); }
    [[nodiscard]] const std::string& path() const noexcept { return name_; }

    // The k-th packet of flow i (absolute time, size, direction).
    [[nodiscard]] packet packet_of(std::size_t i, std::uint32_t k) const {
        const flow_record& f = flows_.at(i);
        return decode(f, packet_offset(f.first_packet + k));
    }

    // All packets of flow i, appended to `out`.
    void packets_of(std::size_t i, std::vector<packet>& out) const {
        const flow_record& f = flows_.at(i);
        out.reserve(out.size() + f.packets);
        std::size_t off = packet_offset(f.first_packet);
        for (std::uint32_t k = 0; k < f.packets; ++k, off += detail::records::packet_size) out.push_back(decode(f, off));
    }

    // packet_source: every packet of every flow, flow after flow.
    bool next(keyed_packet& out) {
        while (cursor_flow_ < flows_.size() && cursor_packet_ >= flows_[cursor_flow_].packets) {
            ++cursor_flow_;
            cursor_packet_ = 0;
        }
        if (cursor_flow_ >= flows_.size()) return false;
        const flow_record& f = flows_[cursor_flow_];
        out.key = f.key;
        out.pkt = decode(f, packet_offset(f.first_packet + cursor_packet_));
        out.direction_known = false;
        current_ = cursor_flow_;
        ++cursor_packet_;
        return true;
    }

    // The flow of the packet next() handed out last.
    [[nodiscard]] std::size_t current_flow() const noexcept { return current_; }

    void rewind() noexcept { cursor_flow_ = cursor_packet_ = current_ = 0; }

private:
    [[noreturn]] void fail(std::uint64_t offset, const std::string& why) const {
        throw format_error(location{name_, offset}, why);
    }

    [[nodiscard]] std::size_t packet_offset(std::uint64_t index) const noexcept {
        return static_cast<std::size_t>(packets_offset_ + index * detail::records::packet_size);
    }

    [[nodiscard]] packet decode(const flow_record& f, std::size_t off) const noexcept {
        namespace r = detail::records;
        const std::uint32_t us = r::le<std::uint32_t>(bytes_.data() + off);
        const std::uint16_t sd = r::le<std::uint16_t>(bytes_.data() + off + 4);
        packet p;
        p.time_ns = f.first_ns + static_cast<std::int64_t>(us) * 1000;
        p.size = sd & 0x7fffu;
        p.dir = (sd & 0x8000u) ? direction::reverse : direction::forward;
        return p;
    }

    // Checks what needs `n` bytes at `off` of a region that ends at `end`.
    void need(std::uint64_t off, std::uint64_t n, std::uint64_t end, const char* what) const {
        if (off > end || n > end - off)
            fail(off, std::string("truncated ") + what + ": needs " + std::to_string(n) + " bytes, " +
                          std::to_string(off > end ? 0 : end - off) + " left");
    }

    void parse() {
        namespace r = detail::records;
        const std::uint8_t* b = bytes_.data();
        const std::uint64_t size = bytes_.size();
        need(0, r::header_size, size, "header");
        if (std::memcmp(b, r::magic.data(), r::magic.size()) != 0) fail(0, "not a flowpic flow-records file (bad magic)");
        const auto ver = r::le<std::uint16_t>(b + 8);
        if (ver != r::version) fail(8, "unsupported version " + std::to_string(ver) + " (this reader knows 1)");
        if (r::le<std::uint16_t>(b + 10) != r::header_size) fail(10, "header size is not 64");
        if (r::le<std::uint16_t>(b + 12) != r::flow_size) fail(12, "flow entry size is not 64");
        if (r::le<std::uint16_t>(b + 14) != r::packet_size) fail(14, "packet record size is not 6");
        const auto nflows = r::le<std::uint32_t>(b + 16);
        const auto nstrings = r::le<std::uint32_t>(b + 20);
        packets_ = r::le<std::uint64_t>(b + 24);
        const auto strings_off = r::le<std::uint64_t>(b + 32);
        const auto flows_off = r::le<std::uint64_t>(b + 40);
        packets_offset_ = r::le<std::uint64_t>(b + 48);
        const auto declared = r::le<std::uint64_t>(b + 56);
        if (declared != size)
            fail(std::min(declared, size), "file size is " + std::to_string(size) + " bytes, the header says " +
                                               std::to_string(declared) + " (truncated or padded)");
        if (strings_off < r::header_size || strings_off > flows_off) fail(32, "strings offset out of order");
        if (flows_off > packets_offset_) fail(40, "flows offset out of order");
        if (packets_ > (size - std::min(size, packets_offset_)) / r::packet_size ||
            packets_offset_ + packets_ * r::packet_size != size)
            fail(24, "packet count " + std::to_string(packets_) + " does not fill the packet table at offset " +
                         std::to_string(packets_offset_));

        // strings
        std::uint64_t off = strings_off;
        if (nstrings > (flows_off - strings_off) / 2)  // each string at least its 2-byte length
            fail(20, "string count " + std::to_string(nstrings) + " does not fit the " +
                         std::to_string(flows_off - strings_off) + "-byte string table");
        strings_.reserve(nstrings);
        for (std::uint32_t i = 0; i < nstrings; ++i) {
            need(off, 2, flows_off, "string length");
            const auto len = r::le<std::uint16_t>(b + off);
            need(off + 2, len, flows_off, "string");
            strings_.emplace_back(reinterpret_cast<const char*>(b + off + 2), len);  // views into bytes_
            off += 2u + len;
        }

        // flows
        need(flows_off, std::uint64_t{nflows} * r::flow_size, packets_offset_, "flow table");
        flows_.reserve(nflows);
        std::uint64_t expect_first = 0;
        for (std::uint32_t i = 0; i < nflows; ++i) {
            const std::uint64_t fo = flows_off + std::uint64_t{i} * r::flow_size;
            const std::uint8_t* e = b + fo;
            flow_record f;
            const std::uint8_t fam = e[37];
            if (fam == 4) {
                f.key.src = ip_address::v4(e);
                f.key.dst = ip_address::v4(e + 16);
            } else if (fam == 6) {
                f.key.src = ip_address::v6(e);
                f.key.dst = ip_address::v6(e + 16);
            } else {
                fail(fo + 37, "flow " + std::to_string(i) + ": address family " + std::to_string(fam) + " (not 4 or 6)");
            }
            f.key.sport = r::le<std::uint16_t>(e + 32);
            f.key.dport = r::le<std::uint16_t>(e + 34);
            f.key.proto = e[36];
            f.key.session = i + 1;
            if (e[38] >= category_names.size())
                fail(fo + 38, "flow " + std::to_string(i) + ": category " + std::to_string(e[38]) + " (not 0..4)");
            f.label = static_cast<category>(e[38]);
            if (e[39] > 1) fail(fo + 39, "flow " + std::to_string(i) + ": vpn flag " + std::to_string(e[39]));
            f.vpn = e[39] == 1;
            const auto app = r::le<std::uint16_t>(e + 40);
            const auto cap = r::le<std::uint16_t>(e + 42);
            if (app >= strings_.size()) fail(fo + 40, "flow " + std::to_string(i) + ": application string out of range");
            if (cap >= strings_.size()) fail(fo + 42, "flow " + std::to_string(i) + ": capture string out of range");
            f.application = strings_[app];
            f.capture = strings_[cap];
            f.packets = r::le<std::uint32_t>(e + 44);
            f.first_ns = static_cast<std::int64_t>(r::le<std::uint64_t>(e + 48));
            f.first_packet = r::le<std::uint64_t>(e + 56);
            // the other sources' bound, under which its packets (first + up to 2^32 us) cannot overflow
            if (f.first_ns > detail::max_abs_time_ns || f.first_ns < -detail::max_abs_time_ns)
                fail(fo + 48, "flow " + std::to_string(i) + ": first packet time " + std::to_string(f.first_ns) +
                                  " ns is out of range");
            if (f.packets == 0) fail(fo + 44, "flow " + std::to_string(i) + " has no packets");
            if (f.first_packet != expect_first)
                fail(fo + 56, "flow " + std::to_string(i) + ": first packet " + std::to_string(f.first_packet) +
                                  ", expected " + std::to_string(expect_first) + " (flows are stored back to back)");
            if (f.packets > packets_ - expect_first)
                fail(fo + 44, "flow " + std::to_string(i) + ": more packets than the packet table holds");
            expect_first += f.packets;
            flows_.push_back(f);
        }
        if (expect_first != packets_) fail(24, "the flows hold " + std::to_string(expect_first) + " packets, the header says " +
                                                   std::to_string(packets_));

        // packets: sizes present, times non-decreasing within each flow
        for (std::size_t i = 0; i < flows_.size(); ++i) {
            std::uint32_t prev = 0;
            std::size_t po = packet_offset(flows_[i].first_packet);
            for (std::uint32_t k = 0; k < flows_[i].packets; ++k, po += r::packet_size) {
                const auto us = r::le<std::uint32_t>(b + po);
                if (us < prev) fail(po, "flow " + std::to_string(i) + ": packet time goes backwards");
                if ((r::le<std::uint16_t>(b + po + 4) & 0x7fffu) == 0)
                    fail(po + 4, "flow " + std::to_string(i) + ": packet of size 0");
                prev = us;
            }
        }
    }

    std::string name_;
    std::vector<std::uint8_t> bytes_;
    std::vector<std::string_view> strings_;
    std::vector<flow_record> flows_;
    std::uint64_t packets_ = 0;
    std::uint64_t packets_offset_ = 0;
    std::size_t cursor_flow_ = 0;
    std::uint32_t cursor_packet_ = 0;
    std::size_t current_ = 0;
};

static_assert(packet_source<flow_records>);

}  // namespace flowpic::source
