#pragma once
// The packet record every stage after decoding works on: small, plain, 16 bytes.

#include <cstdint>
#include <type_traits>

namespace flowpic {

enum class direction : std::uint8_t {
    forward = 0,  // from the flow's initiator (or "up": client to server)
    reverse = 1,  // towards the initiator ("down": the download direction)
};

struct packet {
    std::int64_t time_ns = 0;   // absolute time, integer nanoseconds since the epoch
    std::uint32_t size = 0;     // bytes, as chosen by the size policy (IP total length by default)
    flowpic::direction dir = direction::forward;

    friend constexpr bool operator==(const packet&, const packet&) = default;
};

static_assert(sizeof(packet) == 16, "a packet record is 16 bytes");
static_assert(std::is_trivially_copyable_v<packet>);

inline constexpr std::int64_t ns_per_second = 1'000'000'000;

[[nodiscard]] constexpr double to_seconds(std::int64_t ns) noexcept {
    return static_cast<double>(ns) * 1e-9;
}

}  // namespace flowpic
