#pragma once
// The per-packet session CSV (../shared/data/video-3platform): sessions of packets without a
// 5-tuple, each a line `session,<id>`, the header `rel_ts_us,len`, then one row per packet:
// microseconds since the session start and a size whose sign is the direction (negative = down).

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "flowpic/core/flow_key.hpp"
#include "flowpic/core/packet.hpp"
#include "flowpic/source/csv_util.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::source {

// Session s (1-based, in file order) has no addresses: its upstream packets are keyed
// {none, none, sport 1, dport 2, proto 0, session s}, its downstream ones by the reverse key, all
// with direction_known. Unidirectional tables give two flows per session, bidirectional tables
// one flow oriented client -> server. Times are the relative times (the file has no clock): every
// session starts at 0, so the file as a whole is not in time order.
class packet_csv {
public:
    static constexpr bool time_ordered = false;
    static constexpr std::uint16_t up_port = 1;
    static constexpr std::uint16_t down_port = 2;

    explicit packet_csv(std::string path)
        : file_(std::make_unique<detail::text_file>(std::move(path))), in_(*file_) {
        in_.skip_bom();
        if (in_.at_end()) file_->fail(1, "empty file: expected a line 'session,<id>'");
        const std::uint64_t line = in_.line();
        const detail::token t = in_.field();
        if (t.text != "session" || t.end != ',')
            file_->fail(line, "expected a line 'session,<id>' first, found " + detail::show(t.text));
        start_session(line);
    }

    // Fills `out` with the next packet; false at the end of the file.
    bool next(keyed_packet& out) {
        for (;;) {
            if (in_.at_end()) return false;
            const std::uint64_t line = in_.line();
            const detail::token a = in_.field();
            if (a.ends_line()) {
                if (a.text.empty()) continue;  // blank line
                file_->fail(line, "expected 2 fields 'rel_ts_us,len', found 1: " + detail::show(a.text));
            }
            if (a.text == "session") {
                start_session(line);
                continue;
            }
            // a's text lives in the cursor's buffer, which the next field() may move: parse it first
            std::uint64_t us = 0;
            const bool us_ok = detail::parse_uint(a.text, us);
            const std::string bad_us = us_ok ? std::string() : detail::show(a.text);
            const detail::token b = in_.field();
            if (!b.ends_line()) file_->fail(line, "expected 2 fields 'rel_ts_us,len', found more");
            if (!us_ok) file_->fail(line, "rel_ts_us is not a non-negative integer: " + bad_us);
            if (us > static_cast<std::uint64_t>(detail::max_abs_time_ns / 1000))
                file_->fail(line, "rel_ts_us out of range: " + std::to_string(us));
            std::int64_t len = 0;
            if (!detail::parse_int(b.text, len)) file_->fail(line, "len is not an integer: " + detail::show(b.text));
            if (len < -65535 || len > 65535) file_->fail(line, "len beyond 65535 bytes: " + detail::show(b.text));
            const bool down = b.text.front() == '-';  // "-0" too
            const std::int64_t size = down ? -len : len;
            out.key = down ? down_key_ : up_key_;
            out.pkt.time_ns = static_cast<std::int64_t>(us) * 1000;
            out.pkt.size = static_cast<std::uint32_t>(size);
            out.pkt.dir = down ? direction::reverse : direction::forward;
            out.direction_known = true;
            line_ = line;
            ++packets_;
            return true;
        }
    }

    // Sessions met so far; they are numbered from 1.
    [[nodiscard]] std::uint32_t sessions() const noexcept { return static_cast<std::uint32_t>(names_.size()); }
    // The <id> of session `index` (1-based), as the file names it.
    [[nodiscard]] const std::string& session_name(std::uint32_t index) const { return names_.at(index - 1); }
    // The session of the last packet handed out.
    [[nodiscard]] std::uint32_t session() const noexcept { return up_key_.session; }
    [[nodiscard]] std::uint64_t packets() const noexcept { return packets_; }
    [[nodiscard]] std::uint64_t line() const noexcept { return line_; }  // of the last packet
    [[nodiscard]] const std::string& path() const noexcept { return file_->path(); }

    // The key of a session's upstream packets; downstream ones use key.reversed().
    [[nodiscard]] static flow_key session_key(std::uint32_t index) noexcept {
        flow_key k;
        k.sport = up_port;
        k.dport = down_port;
        k.session = index;
        return k;
    }

private:
    // After the field "session": the id, then the header line.
    void start_session(std::uint64_t line) {
        const detail::token id = in_.field();
        if (!id.ends_line()) file_->fail(line, "a session line has 2 fields: 'session,<id>'");
        if (id.text.empty()) file_->fail(line, "empty session id");
        if (names_.size() >= 0xffffffffu) file_->fail(line, "more than 2^32 - 1 sessions");
        names_.emplace_back(id.text);
        up_key_ = session_key(static_cast<std::uint32_t>(names_.size()));
        down_key_ = up_key_.reversed();
        const std::uint64_t hline = in_.line();
        bool ok = !in_.at_end();
        if (ok) {
            const detail::token h1 = in_.field();
            ok = h1.text == "rel_ts_us" && h1.end == ',';
        }
        if (ok) {
            const detail::token h2 = in_.field();
            ok = h2.text == "len" && h2.ends_line();
        }
        if (!ok) file_->fail(hline, "header missing: expected 'rel_ts_us,len' after the session line");
    }

    std::unique_ptr<detail::text_file> file_;
    detail::cursor in_;
    std::vector<std::string> names_;
    flow_key up_key_;
    flow_key down_key_;
    std::uint64_t packets_ = 0;
    std::uint64_t line_ = 0;
};

static_assert(packet_source<packet_csv>);

}  // namespace flowpic::source
