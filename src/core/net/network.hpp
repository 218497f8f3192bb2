// IP networks and containment (cidr >>= inet), so the login path can test an address
// against the blocked networks it keeps in memory.
#pragma once

#include <array>
#include <cstdint>

namespace vlx::core::net {

enum class Family : std::uint8_t { V4, V6 };

struct Address {
    Family family = Family::V4;
    std::array<std::uint8_t, 16> bytes{};  // network order; the first 4 for IPv4
};

struct Network {
    Address base;
    int prefix_bits = 0;  // 0..32 or 0..128

    // Whether `address` lies inside this network (same family, same leading bits).
    bool contains(const Address& address) const;
};

constexpr int max_bits(Family f) { return f == Family::V4 ? 32 : 128; }

}  // namespace vlx::core::net
