#pragma once
// The processed CSV of the original FlowPic (TrafficParser/generic_parser.py): one row per
// unidirectional flow, no header:
//   pcap_name,ip_src,port_src,ip_dst,port_dst,proto,start_time,length,<length times>,,<length sizes>
// proto is "TCP" or "UDP"; start_time is the flow's first packet in epoch seconds; the times are
// seconds since that packet (rounded to 1 us, written as Python floats: "0.0", "1e-06", "12.5");
// the empty field separates times from sizes (IP total length).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/ip_address.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/source/csv_util.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::source {

// Rows are read in bounded memory whatever their length: one cursor walks the times while a
// second walks the sizes of the same row. A packet's time is start_time + its relative time, both
// parsed exactly to integer nanoseconds. Every row is its own flow: its key carries the 1-based
// row number in `session`, so that equal 5-tuples from different captures of a merged file stay
// apart. Rows follow each other, so the file is not in time order.
class authors_csv {
public:
    static constexpr bool time_ordered = false;

    explicit authors_csv(std::string path)
        : file_(std::make_unique<detail::text_file>(std::move(path))), times_(*file_), sizes_(*file_) {
        times_.skip_bom();
        if (times_.at_end()) file_->fail(1, "empty file: expected rows of the authors' FlowPic CSV");
    }

    // Fills `out` with the next packet; false at the end of the file.
    bool next(keyed_packet& out) {
        while (left_ == 0) {
            if (!start_row()) return false;
        }
        const detail::token t = times_.field();
        if (t.end != ',') file_->fail(line_, "row ends inside its times");  // cannot happen after the scan
        std::int64_t rel = 0;
        if (!detail::parse_seconds_ns(t.text, rel) || rel < 0 || rel > detail::max_abs_time_ns)
            file_->fail(line_, "time " + std::to_string(index_ + 1) + " (field " + std::to_string(9 + index_) +
                                   ") is not a non-negative number of seconds: " + detail::show(t.text));
        if (rel < prev_rel_)
            file_->fail(line_, "times out of order: time " + std::to_string(index_ + 1) + " (" +
                                   std::string(t.text) + ") is before the one preceding it");
        prev_rel_ = rel;
        const detail::token s = sizes_.field();
        const bool last = left_ == 1;
        if (last ? !s.ends_line() : s.end != ',')
            file_->fail(line_, last ? "more sizes than the row's length " + std::to_string(length_)
                                    : "fewer sizes than the row's length " + std::to_string(length_));
        std::uint64_t size = 0;
        if (!detail::parse_uint(s.text, size) || size > 65535)
            file_->fail(line_, "size " + std::to_string(index_ + 1) + " (field " + std::to_string(10 + length_ + index_) +
                                   ") is not a size in 0..65535: " + detail::show(s.text));
        const std::int64_t abs = start_ns_ + rel;
        if (abs > detail::max_abs_time_ns)
            file_->fail(line_, "start_time + time " + std::to_string(index_ + 1) + " out of range");
        out.key = key_;
        out.pkt.time_ns = abs;
        out.pkt.size = static_cast<std::uint32_t>(size);
        out.pkt.dir = direction::forward;
        out.direction_known = false;
        ++index_;
        --left_;
        if (left_ == 0) times_.seek(sizes_.offset(), sizes_.line());  // the next row starts there
        ++packets_;
        return true;
    }

    // The pcap_name of the current row (of the last packet handed out).
    [[nodiscard]] const std::string& pcap_name() const noexcept { return name_; }
    [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
    [[nodiscard]] std::uint64_t packets() const noexcept { return packets_; }
    [[nodiscard]] std::uint64_t line() const noexcept { return line_; }  // of the current row
    [[nodiscard]] const std::string& path() const noexcept { return file_->path(); }

private:
    // Reads the 8 leading fields of the next row and places the sizes cursor; false at the end.
    bool start_row() {
        detail::token f;
        for (;;) {  // blank lines are skipped
            if (times_.at_end()) return false;
            line_ = times_.line();
            f = times_.field();
            if (!(f.ends_line() && f.text.empty())) break;
        }
        ++rows_;
        if (rows_ > 0xffffffffu) file_->fail(line_, "more than 2^32 - 1 rows");
        name_.assign(f.text);
        for (int i = 0; i < 7; ++i) {
            if (f.end != ',')
                file_->fail(line_, "row has " + std::to_string(i + 1) + " fields; expected at least 9 "
                                   "(pcap_name,ip_src,port_src,ip_dst,port_dst,proto,start_time,length,...)");
            f = times_.field();
            fields_[i].assign(f.text);  // a copy: the next field() may refill the buffer
        }
        if (f.end != ',') file_->fail(line_, "row has 8 fields; expected at least 9 (the separator is missing)");
        const auto src = ip_address::parse(fields_[0]);
        if (!src) file_->fail(line_, "ip_src (field 2) is not an IP address: " + detail::show(fields_[0]));
        const auto dst = ip_address::parse(fields_[2]);
        if (!dst) file_->fail(line_, "ip_dst (field 4) is not an IP address: " + detail::show(fields_[2]));
        std::uint64_t sport = 0, dport = 0, length = 0;
        if (!detail::parse_uint(fields_[1], sport) || sport > 65535)
            file_->fail(line_, "port_src (field 3) is not a port number: " + detail::show(fields_[1]));
        if (!detail::parse_uint(fields_[3], dport) || dport > 65535)
            file_->fail(line_, "port_dst (field 5) is not a port number: " + detail::show(fields_[3]));
        const int proto = parse_proto(fields_[4]);
        if (proto < 0)
            file_->fail(line_, "proto (field 6) is not TCP, UDP or a protocol number: " + detail::show(fields_[4]));
        std::int64_t start = 0;
        if (!detail::parse_seconds_ns(fields_[5], start) || start < -detail::max_abs_time_ns ||
            start > detail::max_abs_time_ns)
            file_->fail(line_, "start_time (field 7) is not a time in seconds: " + detail::show(fields_[5]));
        if (!detail::parse_uint(fields_[6], length) || length > 0xffffffffu)
            file_->fail(line_, "length (field 8) is not a packet count: " + detail::show(fields_[6]));

        // The sizes start after `length` times and the empty separator.
        sizes_.seek(times_.offset(), times_.line());
        char end = ',';
        const std::uint64_t skipped = sizes_.skip_fields(length, end);
        if (skipped < length)
            file_->fail(line_, "row ends before its " + std::to_string(length) + " times and the sizes: length (field 8) "
                                   "does not match the row");
        const detail::token sep = sizes_.field();
        if (!sep.text.empty())
            file_->fail(line_, "field " + std::to_string(9 + length) + " should be the empty separator between " +
                                   std::to_string(length) + " times and sizes, found " + detail::show(sep.text) +
                                   ": length does not match the row");
        if (length == 0 ? !sep.ends_line() : sep.end != ',')
            file_->fail(line_, length == 0 ? "a row of length 0 ends with the separator"
                                           : "row ends at the separator: no sizes");

        flow_key k;
        k.src = *src;
        k.dst = *dst;
        k.sport = static_cast<std::uint16_t>(sport);
        k.dport = static_cast<std::uint16_t>(dport);
        k.proto = static_cast<std::uint8_t>(proto);
        k.session = static_cast<std::uint32_t>(rows_);
        key_ = k;
        start_ns_ = start;
        length_ = length;
        left_ = length;
        index_ = 0;
        prev_rel_ = 0;
        if (length == 0) times_.seek(sizes_.offset(), sizes_.line());
        return true;
    }

    // "TCP", "UDP" (any case) or a protocol number; -1 otherwise.
    [[nodiscard]] static int parse_proto(std::string_view s) noexcept {
        auto is = [&](const char* w) {
            if (s.size() != 3) return false;
            for (int i = 0; i < 3; ++i)
                if ((s[static_cast<std::size_t>(i)] | 0x20) != w[i]) return false;
            return true;
        };
        if (is("tcp")) return 6;
        if (is("udp")) return 17;
        std::uint64_t n = 0;
        if (detail::parse_uint(s, n) && n <= 255) return static_cast<int>(n);
        return -1;
    }

    std::unique_ptr<detail::text_file> file_;
    detail::cursor times_;  // the row's start, then its times
    detail::cursor sizes_;  // the row's sizes
    std::string name_;
    std::string fields_[7];
    flow_key key_;
    std::int64_t start_ns_ = 0;
    std::int64_t prev_rel_ = 0;
    std::uint64_t length_ = 0;
    std::uint64_t left_ = 0;
    std::uint64_t index_ = 0;
    std::uint64_t rows_ = 0;
    std::uint64_t packets_ = 0;
    std::uint64_t line_ = 0;
};

static_assert(packet_source<authors_csv>);

}  // namespace flowpic::source
