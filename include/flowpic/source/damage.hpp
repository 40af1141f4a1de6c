#pragma once
// Captures cut short (tcpdump killed, a disk full, a file still being written) or damaged part
// way: source::until_damage reads a source up to its first bad record and keeps the error as a
// source::damage instead of throwing it, so that every complete record before it is processed
// and flows still end (as tcpdump and tshark print the packets, then warn).
//
//   source::until_damage src(capture);
//   table.consume(src, sink);                       // every record before the damage
//   if (src.damage()) warn(src.damage()->str());    // file and byte offset (or line) of it
//
// Only format_error (bad data) is damage; io_error (the system failed) still throws, and so do
// errors a source's constructor finds (a file that is no capture at all).

#include <optional>
#include <string>
#include <utility>

#include "flowpic/core/error.hpp"
#include "flowpic/source/keyed_packet.hpp"

namespace flowpic::source {

// Where reading stopped and why.
struct damage {
    location where;
    std::string reason;

    [[nodiscard]] std::string str() const { return where.str() + ": " + reason; }
    [[nodiscard]] static damage of(const format_error& e) { return damage{e.where(), e.reason()}; }
};

namespace detail {
template <class S>
concept has_time_order = requires { S::time_ordered; };
template <class S>
concept has_capture_stats = requires(const S& s) { s.stats(); };
}  // namespace detail

// What a damaged record does: stop the source there (kept as its damage()), or throw as the
// inner source does (the behaviour of `--strict`), one instantiation for both.
enum class on_damage : unsigned char { stop, refuse };

// A packet source that ends at its inner source's first format_error, which it keeps.
template <packet_source S>
class until_damage {
public:
    static constexpr bool time_ordered = [] {
        if constexpr (detail::has_time_order<S>) return bool(S::time_ordered);
        else return false;
    }();

    explicit until_damage(S& src, on_damage mode = on_damage::stop) noexcept : src_(src), mode_(mode) {}

    bool next(keyed_packet& out) {
        if (damage_) return false;
        try {
            return src_.next(out);
        } catch (const format_error& e) {
            if (mode_ == on_damage::refuse) throw;
            damage_ = damage::of(e);
            return false;
        }
    }

    // Chunks (keyed_packet.hpp): the inner source's, or one packet; ends at the damage as next().
    std::size_t next_chunk(keyed_packet* out, std::size_t max) {
        if (damage_) return 0;
        try {
            return next_chunk_of(src_, out, max);
        } catch (const format_error& e) {
            if (mode_ == on_damage::refuse) throw;
            damage_ = damage::of(e);
            return 0;
        }
    }

    [[nodiscard]] const std::optional<source::damage>& damage() const noexcept { return damage_; }
    [[nodiscard]] S& inner() noexcept { return src_; }
    [[nodiscard]] decltype(auto) stats() const
        requires detail::has_capture_stats<S>
    {
        return src_.stats();
    }

private:
    S& src_;
    on_damage mode_;
    std::optional<source::damage> damage_;
};

}  // namespace flowpic::source
