#pragma once
// The 5-tuple that names a unidirectional flow, plus a session number for sources without one.

#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>

#include "flowpic/core/ip_address.hpp"

namespace flowpic {

struct flow_key {
    ip_address src;
    ip_address dst;
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint8_t proto = 0;     // IP protocol number (6 TCP, 17 UDP)
    std::uint8_t reserved = 0;  // keeps the layout free of padding, so keys compare as bytes
    std::uint32_t session = 0;  // sources without 5-tuples (per-packet CSV sessions); 0 for captures

    [[nodiscard]] flow_key reversed() const noexcept {
        flow_key r = *this;
        r.src = dst;
        r.dst = src;
        r.sport = dport;
        r.dport = sport;
        return r;
    }

    // Byte-wise: a fixed-size compare the compiler turns into a few wide loads.
    friend bool operator==(const flow_key& a, const flow_key& b) noexcept {
        return __builtin_memcmp(&a, &b, sizeof(flow_key)) == 0;
    }
    friend constexpr auto operator<=>(const flow_key&, const flow_key&) = default;
};

static_assert(sizeof(flow_key) == 44 && std::has_unique_object_representations_v<flow_key>,
              "flow_key must have no padding: equality and hashing read its bytes");

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

// Fast, well-mixed hash of a key's bytes; equal keys hash equal.
[[nodiscard]] inline std::uint64_t hash(const flow_key& k) noexcept {
    std::uint64_t w[5];
    std::uint32_t last;
    static_assert(sizeof(w) + sizeof(last) == sizeof(flow_key));
    std::memcpy(w, &k, sizeof(w));
    std::memcpy(&last, reinterpret_cast<const unsigned char*>(&k) + sizeof(w), sizeof(last));
    std::uint64_t h = (w[0] * 0x9e3779b97f4a7c15ULL) ^ (w[1] * 0xc2b2ae3d27d4eb4fULL);
    h ^= (w[2] * 0x165667b19e3779f9ULL) ^ (w[3] * 0xd6e8feb86659fd93ULL);
    h ^= (w[4] + last) * 0xff51afd7ed558ccdULL;
    return detail::mix64(h);
}

struct flow_key_hash {
    std::size_t operator()(const flow_key& k) const noexcept { return static_cast<std::size_t>(hash(k)); }
};

}  // namespace flowpic
