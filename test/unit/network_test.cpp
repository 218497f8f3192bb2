#include "core/net/network.hpp"

#include <gtest/gtest.h>

using namespace vlx::core::net;

namespace {
Address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    Address x;
    x.family = Family::V4;
    x.bytes[0] = a, x.bytes[1] = b, x.bytes[2] = c, x.bytes[3] = d;
    return x;
}
Address v6(std::uint16_t first, std::uint16_t last) {
    Address x;
    x.family = Family::V6;
    x.bytes[0] = static_cast<std::uint8_t>(first >> 8), x.bytes[1] = static_cast<std::uint8_t>(first);
    x.bytes[14] = static_cast<std::uint8_t>(last >> 8), x.bytes[15] = static_cast<std::uint8_t>(last);
    return x;
}
}  // namespace

TEST(Network, Ipv4Prefixes) {
    const Network net{v4(192, 0, 2, 0), 24};
    EXPECT_TRUE(net.contains(v4(192, 0, 2, 0)));
    EXPECT_TRUE(net.contains(v4(192, 0, 2, 255)));
    EXPECT_FALSE(net.contains(v4(192, 0, 3, 1)));
    const Network odd{v4(10, 0, 0, 0), 12};  // 10.0.0.0 - 10.15.255.255
    EXPECT_TRUE(odd.contains(v4(10, 15, 255, 255)));
    EXPECT_FALSE(odd.contains(v4(10, 16, 0, 0)));
}

TEST(Network, HostAndEverything) {
    EXPECT_TRUE((Network{v4(203, 0, 113, 7), 32}).contains(v4(203, 0, 113, 7)));
    EXPECT_FALSE((Network{v4(203, 0, 113, 7), 32}).contains(v4(203, 0, 113, 8)));
    EXPECT_TRUE((Network{v4(0, 0, 0, 0), 0}).contains(v4(8, 8, 8, 8)));
}

TEST(Network, FamiliesNeverMix) {
    EXPECT_FALSE((Network{v4(0, 0, 0, 0), 0}).contains(v6(0x2001, 1)));
    EXPECT_TRUE((Network{v6(0x2001, 0), 16}).contains(v6(0x2001, 0xffff)));
    EXPECT_FALSE((Network{v6(0x2001, 0), 16}).contains(v6(0x2002, 0)));
    EXPECT_TRUE((Network{v6(0x2001, 5), 128}).contains(v6(0x2001, 5)));
    EXPECT_FALSE((Network{v6(0x2001, 5), 128}).contains(v6(0x2001, 6)));
}
