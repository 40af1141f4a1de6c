#pragma once
// The extended CSV of Viasat's network-stats (network_stats.py -e), which the network_stats
// variant (parkeraddison/flowpic-replication) reads: a header naming the columns, then one row per
// connection per second,
//   Time,IP1,Port1,IP2,Port2,Proto,1->2Bytes,2->1Bytes,1->2Pkts,2->1Pkts,packet_times,packet_sizes,packet_dirs
// with ';'-terminated lists: times in integer milliseconds since the epoch, sizes (IP length),
// and directions (1 = sent by IP1, the local host; 2 = sent by IP2).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/ip_address.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/source/csv_util.hpp"
#include "flowpic/source/keyed_packet.hpp"
#include "flowpic/source/size_policy.hpp"

namespace flowpic::source {

// Columns are found by their header names, in any order; other columns are ignored. A packet with
// direction 1 is keyed (IP1, IP2, Port1, Port2, Proto) with direction forward, one with direction 2
// by the reverse key with direction reverse, both with direction_known: a bidirectional table
// orients the connection local -> remote. The three lists of a row are read side by side by three
// cursors, so a row may be any length. Rows come per second, and the connections of one second
// interleave, so the file is only in time order to within a second.
template <class Protocols = protocols::tcp_udp>
class network_stats_csv {
public:
    static constexpr bool time_ordered = false;
    using protocol_policy = Protocols;

    explicit network_stats_csv(std::string path)
        : file_(std::make_unique<detail::text_file>(std::move(path))),
          in_(*file_), times_(*file_), sizes_(*file_), dirs_(*file_) {
        read_header();
    }

    // Fills `out` with the next packet; false at the end of the file.
    bool next(keyed_packet& out) {
        for (;;) {
            if (!in_row_) {
                if (!start_row()) return false;
                in_row_ = true;
            }
            const detail::token t = times_.item();
            const detail::token s = sizes_.item();
            const detail::token d = dirs_.item();
            const bool te = t.end != ';', se = s.end != ';', de = d.end != ';';
            if (te || se || de) {
                end_row(t, s, d, te, se, de);
                in_row_ = false;
                continue;
            }
            ++item_;
            std::uint64_t ms = 0, size = 0;
            if (!detail::parse_uint(t.text, ms) || ms > static_cast<std::uint64_t>(detail::max_abs_time_ns / 1'000'000))
                fail_item("packet_times", item_, t.text, "is not a time in milliseconds since the epoch");
            if (!detail::parse_uint(s.text, size) || size > 65535)
                fail_item("packet_sizes", item_, s.text, "is not a size in 0..65535");
            if (d.text != "1" && d.text != "2") fail_item("packet_dirs", item_, d.text, "is not 1 or 2");
            const std::int64_t ns = static_cast<std::int64_t>(ms) * 1'000'000;
            if (ns < prev_ns_)
                file_->fail(line_, "packet_times out of order: item " + std::to_string(item_) + " (" + std::string(t.text) +
                                       ") is before the one preceding it");
            prev_ns_ = ns;
            const bool up = d.text[0] == '1';
            if (up) {
                ++pkts_[0];
                bytes_[0] += size;
            } else {
                ++pkts_[1];
                bytes_[1] += size;
            }
            ++stats_.frames;
            if (!keep_) {
                ++stats_.other_protocol;
                continue;
            }
            out.key = up ? key_ : key_.reversed();
            out.pkt.time_ns = ns;
            out.pkt.size = static_cast<std::uint32_t>(size);
            out.pkt.dir = up ? direction::forward : direction::reverse;
            out.direction_known = true;
            ++stats_.packets;
            return true;
        }
    }

    [[nodiscard]] const capture_stats& stats() const noexcept { return stats_; }
    [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
    [[nodiscard]] std::uint64_t line() const noexcept { return line_; }  // of the current row
    [[nodiscard]] const std::string& path() const noexcept { return file_->path(); }

private:
    enum column : int { ip1, port1, ip2, port2, proto, times, sizes, dirs, time, bytes12, bytes21, pkts12, pkts21, n_known };
    static constexpr const char* names[n_known] = {"IP1",          "Port1",        "IP2",         "Port2",  "Proto",
                                                   "packet_times", "packet_sizes", "packet_dirs", "Time",   "1->2Bytes",
                                                   "2->1Bytes",    "1->2Pkts",     "2->1Pkts"};
    static constexpr int n_required = 8;

    void read_header() {
        in_.skip_bom();
        if (in_.at_end()) file_->fail(1, "empty file: expected the network-stats header");
        for (auto& c : col_) c = -1;
        for (;;) {
            const detail::token f = in_.field();
            if (header_.size() >= 4096) file_->fail(1, "header has more than 4096 columns");
            header_.emplace_back(f.text);
            if (f.ends_line()) break;
        }
        for (std::size_t i = 0; i < header_.size(); ++i) {
            for (int k = 0; k < n_known; ++k) {
                if (header_[i] != names[k]) continue;
                if (col_[k] >= 0) file_->fail(1, std::string("header names column '") + names[k] + "' twice");
                col_[k] = static_cast<int>(i);
            }
        }
        for (int k = 0; k < n_required; ++k)
            if (col_[k] < 0)
                file_->fail(1, std::string("header missing: no column '") + names[k] +
                                   "' (the network-stats extended CSV starts with a header such as "
                                   "Time,IP1,Port1,IP2,Port2,Proto,...,packet_times,packet_sizes,packet_dirs)");
        role_.assign(header_.size(), -1);
        for (int k = 0; k < n_known; ++k)
            if (col_[k] >= 0) role_[static_cast<std::size_t>(col_[k])] = k;
        value_.resize(n_known);
    }

    // Reads the scalar fields of the next row and places the three list cursors; false at the end.
    bool start_row() {
        for (;;) {
            if (in_.at_end()) return false;
            if (!in_.skip_blank_line()) break;
        }
        line_ = in_.line();
        ++rows_;
        const std::size_t n = header_.size();
        for (std::size_t i = 0; i < n; ++i) {
            const int role = role_[i];
            char end = ',';
            if (role == times || role == sizes || role == dirs) {
                const std::uint64_t at = in_.offset();
                (role == times ? times_ : role == sizes ? sizes_ : dirs_).seek(at, line_);
                in_.skip_fields(1, end);
            } else {
                const detail::token f = in_.field();
                end = f.end;
                if (role >= 0) value_[static_cast<std::size_t>(role)].assign(f.text);
            }
            const bool last = i + 1 == n;
            if (!last && end != ',')
                file_->fail(line_, "row has " + std::to_string(i + 1) + " fields; the header has " + std::to_string(n));
            if (last && end == ',') file_->fail(line_, "row has more fields than the header's " + std::to_string(n));
        }
        const auto a = ip_address::parse(value_[ip1]);
        if (!a) fail_field(ip1, "is not an IP address");
        const auto b = ip_address::parse(value_[ip2]);
        if (!b) fail_field(ip2, "is not an IP address");
        std::uint64_t p1 = 0, p2 = 0, pr = 0;
        if (!detail::parse_uint(value_[port1], p1) || p1 > 65535) fail_field(port1, "is not a port number");
        if (!detail::parse_uint(value_[port2], p2) || p2 > 65535) fail_field(port2, "is not a port number");
        if (!detail::parse_uint(value_[proto], pr) || pr > 255) fail_field(proto, "is not a protocol number");
        std::int64_t when = 0;
        if (col_[time] >= 0 && !detail::parse_int(value_[time], when)) fail_field(time, "is not an integer");
        for (int k = bytes12; k <= pkts21; ++k) {
            expect_[k - bytes12] = -1;
            if (col_[k] < 0) continue;
            std::uint64_t v = 0;
            if (!detail::parse_uint(value_[static_cast<std::size_t>(k)], v)) fail_field(k, "is not a count");
            expect_[k - bytes12] = static_cast<std::int64_t>(v > INT64_MAX ? INT64_MAX : v);
        }
        key_ = flow_key{};
        key_.src = *a;
        key_.dst = *b;
        key_.sport = static_cast<std::uint16_t>(p1);
        key_.dport = static_cast<std::uint16_t>(p2);
        key_.proto = static_cast<std::uint8_t>(pr);
        keep_ = Protocols::keep_all || pr == 6 || pr == 17;
        prev_ns_ = 0;
        item_ = 0;
        pkts_[0] = pkts_[1] = 0;
        bytes_[0] = bytes_[1] = 0;
        return true;
    }

    // A list ended: all three must end together, after a ';', and agree with the counters.
    void end_row(const detail::token& t, const detail::token& s, const detail::token& d, bool te, bool se, bool de) {
        constexpr const char* unterminated = "is not followed by ';' (the lists are ';'-terminated)";
        if (te && !t.text.empty()) fail_item("packet_times", item_ + 1, t.text, unterminated);
        if (se && !s.text.empty()) fail_item("packet_sizes", item_ + 1, s.text, unterminated);
        if (de && !d.text.empty()) fail_item("packet_dirs", item_ + 1, d.text, unterminated);
        if (!(te && se && de)) {
            std::string which;
            const char* list[3] = {"packet_times", "packet_sizes", "packet_dirs"};
            const bool ended[3] = {te, se, de};
            for (int k = 0; k < 3; ++k)
                if (ended[k]) which += std::string(which.empty() ? "" : " and ") + list[k];
            file_->fail(line_, "length mismatch: " + which + " end after " + std::to_string(item_) +
                                   " items, the other list(s) go on");
        }
        const std::int64_t got[4] = {static_cast<std::int64_t>(bytes_[0]), static_cast<std::int64_t>(bytes_[1]),
                                     static_cast<std::int64_t>(pkts_[0]), static_cast<std::int64_t>(pkts_[1])};
        for (int k = 0; k < 4; ++k)
            if (expect_[k] >= 0 && expect_[k] != got[k])
                file_->fail(line_, std::string("length mismatch: column '") + names[bytes12 + k] + "' says " +
                                       std::to_string(expect_[k]) + " but the lists give " + std::to_string(got[k]));
    }

    [[noreturn]] void fail_field(int k, const char* what) const {
        file_->fail(line_, std::string(names[k]) + " (field " + std::to_string(col_[k] + 1) + ") " + what + ": " +
                               detail::show(value_[static_cast<std::size_t>(k)]));
    }
    [[noreturn]] void fail_item(const char* list, std::uint64_t index, std::string_view text, const char* what) const {
        file_->fail(line_, std::string(list) + " item " + std::to_string(index) + " " + detail::show(text) + " " + what);
    }

    std::unique_ptr<detail::text_file> file_;
    detail::cursor in_;      // rows, field by field
    detail::cursor times_;   // the current row's packet_times
    detail::cursor sizes_;   // ... packet_sizes
    detail::cursor dirs_;    // ... packet_dirs
    std::vector<std::string> header_;
    std::vector<int> role_;  // per column: a known column, or -1
    int col_[n_known] = {};
    std::vector<std::string> value_;
    std::int64_t expect_[4] = {-1, -1, -1, -1};  // 1->2Bytes, 2->1Bytes, 1->2Pkts, 2->1Pkts
    std::uint64_t bytes_[2] = {};
    std::uint64_t pkts_[2] = {};
    flow_key key_;
    bool keep_ = true;
    bool in_row_ = false;
    std::int64_t prev_ns_ = 0;
    std::uint64_t item_ = 0;
    std::uint64_t rows_ = 0;
    std::uint64_t line_ = 0;
    capture_stats stats_;
};

static_assert(packet_source<network_stats_csv<>>);

}  // namespace flowpic::source
