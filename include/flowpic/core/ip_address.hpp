#pragma once
// An IPv4 or IPv6 address held by value, printable the way inet_ntop writes it.

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <arpa/inet.h>

namespace flowpic {

enum class ip_family : std::uint8_t { none = 0, v4 = 4, v6 = 6 };

struct ip_address {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first four
    ip_family family = ip_family::none;

    [[nodiscard]] static ip_address v4(const std::uint8_t* p) noexcept {
        ip_address a;
        std::memcpy(a.bytes.data(), p, 4);
        a.family = ip_family::v4;
        return a;
    }
    [[nodiscard]] static ip_address v6(const std::uint8_t* p) noexcept {
        ip_address a;
        std::memcpy(a.bytes.data(), p, 16);
        a.family = ip_family::v6;
        return a;
    }
    [[nodiscard]] static std::optional<ip_address> parse(std::string_view text) {
        char buf[INET6_ADDRSTRLEN + 1];
        if (text.size() >= sizeof buf) return std::nullopt;
        std::memcpy(buf, text.data(), text.size());
        buf[text.size()] = '\0';
        ip_address a;
        if (::inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
            a.family = ip_family::v4;
            return a;
        }
        if (::inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
            a.family = ip_family::v6;
            return a;
        }
        return std::nullopt;
    }

    [[nodiscard]] std::string str() const {
        char buf[INET6_ADDRSTRLEN] = {};
        switch (family) {
            case ip_family::v4: ::inet_ntop(AF_INET, bytes.data(), buf, sizeof buf); return buf;
            case ip_family::v6: ::inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf); return buf;
            default: return "-";
        }
    }

    friend constexpr bool operator==(const ip_address&, const ip_address&) = default;
    friend constexpr auto operator<=>(const ip_address&, const ip_address&) = default;
};

}  // namespace flowpic
