#pragma once
// The label file: one row per flow (a connection, src = the side that sent its first packet),
// as `flowpic label` writes it and `flowpic dataset --labels` reads it (docs/formats.md):
//
//   src,dst,sport,dport,proto,first,application,category,class
//   10.0.0.1,142.250.1.1,50000,443,17,1556893290.123456,QUIC.YouTube,Media,video
//
// `first` is the epoch time of the flow's first packet in seconds, six decimals (core/time_text);
// `class` is a class name, `ignore`, or empty when nDPI could not name the flow. A flow of a
// capture is matched to its row by its 5-tuple in either direction and its first packet time
// (label_index), so both directions of a connection take the connection's row.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "flowpic/core/atomic_file.hpp"
#include "flowpic/core/error.hpp"
#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/time_text.hpp"
#include "flowpic/labels/csv_text.hpp"
#include "flowpic/source/csv_util.hpp"

namespace flowpic::labels {

inline constexpr std::string_view label_file_header = "src,dst,sport,dport,proto,first,application,category,class";

struct flow_label {
    flow_key key;                // src: the side that sent the first packet
    std::int64_t first_ns = 0;   // that packet's time
    std::string application;     // nDPI's name, e.g. "TLS.YouTube"; "Unknown" when it could not tell
    std::string category;        // nDPI's category, e.g. "Media"
    std::string cls;             // a class, "ignore", or "" (unnamed)
};

[[nodiscard]] inline std::string format_label_row(const flow_label& r) {
    std::string row = r.key.src.str();
    row += ',';
    row += r.key.dst.str();
    row += ',';
    row += std::to_string(r.key.sport);
    row += ',';
    row += std::to_string(r.key.dport);
    row += ',';
    row += std::to_string(r.key.proto);
    row += ',';
    row += epoch_seconds(r.first_ns);
    row += ',';
    row += csv_quote(r.application);
    row += ',';
    row += csv_quote(r.category);
    row += ',';
    row += csv_quote(r.cls);
    return row;
}

// Parses a label file's text; `name` is the file named in errors (format_error with the line).
[[nodiscard]] inline std::vector<flow_label> parse_label_file(std::string_view text, const std::string& name) {
    std::vector<flow_label> rows;
    bool header = false;
    for_each_line(text, [&](std::size_t line, std::string_view l) {
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        auto fail = [&](const std::string& what) { throw format_error(location{name, location::npos, line}, what); };
        if (!header) {
            if (l != label_file_header)
                fail("not a label file: the first line must be " + std::string(label_file_header));
            header = true;
            return;
        }
        if (l.empty()) return;
        const auto f = split_csv_line(l);
        if (!f) fail("unbalanced quote");
        if (f->size() != 9) fail("expected 9 fields, got " + std::to_string(f->size()));
        flow_label r;
        const auto src = ip_address::parse((*f)[0]);
        const auto dst = ip_address::parse((*f)[1]);
        if (!src) fail("src " + source::detail::show((*f)[0]) + " is no IP address");
        if (!dst) fail("dst " + source::detail::show((*f)[1]) + " is no IP address");
        if (src->family != dst->family) fail("src and dst are of different IP versions");
        r.key.src = *src;
        r.key.dst = *dst;
        std::uint64_t v = 0;
        if (!source::detail::parse_uint((*f)[2], v) || v > 65535) fail("sport " + source::detail::show((*f)[2]) + " is no port");
        r.key.sport = static_cast<std::uint16_t>(v);
        if (!source::detail::parse_uint((*f)[3], v) || v > 65535) fail("dport " + source::detail::show((*f)[3]) + " is no port");
        r.key.dport = static_cast<std::uint16_t>(v);
        if (!source::detail::parse_uint((*f)[4], v) || v > 255) fail("proto " + source::detail::show((*f)[4]) + " is no IP protocol");
        r.key.proto = static_cast<std::uint8_t>(v);
        if (!source::detail::parse_seconds_ns((*f)[5], r.first_ns) ||
            r.first_ns > source::detail::max_abs_time_ns || r.first_ns < -source::detail::max_abs_time_ns)
            fail("first " + source::detail::show((*f)[5]) + " is no time in seconds");
        r.application = (*f)[6];
        r.category = (*f)[7];
        r.cls = (*f)[8];
        rows.push_back(std::move(r));
    });
    if (!header) throw format_error(location{name}, "empty label file: expected the header " + std::string(label_file_header));
    return rows;
}

[[nodiscard]] inline std::vector<flow_label> read_label_file(const std::string& path) {
    return parse_label_file(read_text_file(path), path);
}

// Writes rows under the header, atomically (core/atomic_file.hpp); "-" is standard output.
// io_error naming the file on failure.
inline void write_label_file(const std::string& path, const std::vector<flow_label>& rows) {
    std::string text(label_file_header);
    text += '\n';
    for (const auto& r : rows) {
        text += format_label_row(r);
        text += '\n';
    }
    if (path != "-") return write_file_atomically(path, std::string_view(text));
    if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
        throw io_error(location{path}, "write error");
}

// Finds a flow's row: the rows of its 5-tuple in either direction, the latest whose `first` is
// not after the flow's first packet (1 us of slack: `first` is rounded to the microsecond). A
// 5-tuple reused later in a capture so takes the row of its own connection.
class label_index {
public:
    label_index() = default;
    explicit label_index(std::vector<flow_label> rows) : rows_(std::move(rows)) {
        for (std::size_t i = 0; i < rows_.size(); ++i) by_key_[canonical(rows_[i].key)].push_back(i);
        for (auto& [k, v] : by_key_)
            std::stable_sort(v.begin(), v.end(), [&](std::size_t a, std::size_t b) { return rows_[a].first_ns < rows_[b].first_ns; });
    }

    [[nodiscard]] const flow_label* find(const flow_key& key, std::int64_t first_ns) const {
        const auto it = by_key_.find(canonical(key));
        if (it == by_key_.end()) return nullptr;
        const flow_label* best = nullptr;
        for (std::size_t i : it->second) {
            if (rows_[i].first_ns > first_ns + slack_ns) break;
            best = &rows_[i];
        }
        return best;
    }

    [[nodiscard]] const std::vector<flow_label>& rows() const noexcept { return rows_; }
    [[nodiscard]] std::size_t size() const noexcept { return rows_.size(); }

private:
    static constexpr std::int64_t slack_ns = 1000;

    // The direction-free key: the smaller of the key and its reverse, without a session number.
    static flow_key canonical(flow_key k) {
        k.session = 0;
        const flow_key r = k.reversed();
        return r < k ? r : k;
    }

    std::vector<flow_label> rows_;
    std::unordered_map<flow_key, std::vector<std::size_t>, flow_key_hash> by_key_;
};

}  // namespace flowpic::labels
