#include "core/net/network.hpp"

namespace vlx::core::net {

bool Network::contains(const Address& address) const {
    if (address.family != base.family) return false;
    int bits = prefix_bits < 0 ? 0 : (prefix_bits > max_bits(base.family) ? max_bits(base.family) : prefix_bits);
    std::size_t i = 0;
    for (; bits >= 8; bits -= 8, ++i)
        if (address.bytes[i] != base.bytes[i]) return false;
    if (bits == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xFFu << (8 - bits));
    return (address.bytes[i] & mask) == (base.bytes[i] & mask);
}

}  // namespace vlx::core::net
