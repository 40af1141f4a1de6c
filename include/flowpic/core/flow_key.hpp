#pragma once
// The 5-tuple that names a unidirectional flow, plus a session number for sources without one.

#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "flowpic/core/ip_address.hpp"

namespace flowpic {

struct flow_key {
    ip_address src;
    ip_address dst;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint8_t proto = 0;     // IP protocol number (6 TCP, 17 UDP)
    std::uint32_t session = 0;  // sources without 5-tuples (per-packet CSV sessions); 0 for captures

    [[nodiscard]] flow_key reversed() const noexcept {
        flow_key r = *this;
        r.src = dst;
        r.dst = src;
        r.sport = dport;
        r.dport = sport;
        return r;
    }

    friend constexpr bool operator==(const flow_key&, const flow_key&) = default;
    friend constexpr auto operator<=>(const flow_key&, const flow_key&) = default;
};

namespace detail {
[[nodiscard]] inline std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}
}  // namespace detail

// Fast, well-mixed hash of a key; equal keys hash equal.
[[nodiscard]] inline std::uint64_t hash(const flow_key& k) noexcept {
    std::uint64_t w[4];
    std::memcpy(&w[0], k.src.bytes.data(), 8);
    std::memcpy(&w[1], k.src.bytes.data() + 8, 8);
    std::memcpy(&w[2], k.dst.bytes.data(), 8);
    std::memcpy(&w[3], k.dst.bytes.data() + 8, 8);
    std::uint64_t h = 0x9e3779b97f4a7c15ULL;
    h = detail::mix64(h ^ w[0]) + w[1];
    h = detail::mix64(h ^ w[2]) + w[3];
    const std::uint64_t tail = (std::uint64_t{k.sport} << 48) | (std::uint64_t{k.dport} << 32) |
                               (std::uint64_t{k.proto} << 24) |
                               (std::uint64_t{static_cast<std::uint8_t>(k.src.family)} << 20) |
                               (std::uint64_t{static_cast<std::uint8_t>(k.dst.family)} << 16);
    return detail::mix64(h ^ tail ^ (std::uint64_t{k.session} * 0xff51afd7ed558ccdULL));
}

struct flow_key_hash {
    std::size_t operator()(const flow_key& k) const noexcept { return static_cast<std::size_t>(hash(k)); }
};

}  // namespace flowpic
