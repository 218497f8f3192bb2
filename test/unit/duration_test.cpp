#include "core/duration.hpp"

#include <gtest/gtest.h>

using namespace vlx::core;

namespace {
std::int64_t us(const char* text) {
    auto parsed = parse_duration(text);
    EXPECT_TRUE(parsed.micros.has_value()) << text << ": " << parsed.error;
    return parsed.micros.value_or(-999);
}
bool refused(const char* text) { return !parse_duration(text).micros.has_value(); }
}  // namespace

TEST(Duration, UnitsLikePostgresIntervals) {
    EXPECT_EQ(us("15 min"), 15 * kMicrosPerMinute);
    EXPECT_EQ(us("15min"), 15 * kMicrosPerMinute);
    EXPECT_EQ(us("2 hours"), 2 * kMicrosPerHour);
    EXPECT_EQ(us("1 day"), kMicrosPerDay);
    EXPECT_EQ(us("1 week 2 days"), 9 * kMicrosPerDay);
    EXPECT_EQ(us("500 ms"), 500000);
    EXPECT_EQ(us("1.5 h"), 90 * kMicrosPerMinute);
    EXPECT_EQ(us("@ 3 seconds"), 3 * kMicrosPerSecond);
    EXPECT_EQ(us("90"), 90 * kMicrosPerSecond) << "a bare number is seconds";
}

TEST(Duration, EmptyIsZero) {
    EXPECT_EQ(us(""), 0);
    EXPECT_EQ(us("0"), 0);
    EXPECT_EQ(us("   "), 0);
}

TEST(Duration, SignsApplyPerTerm) {
    EXPECT_EQ(us("-15 min"), -15 * kMicrosPerMinute);
    EXPECT_EQ(us("1 hour -15 min"), 45 * kMicrosPerMinute);
    EXPECT_EQ(us("-00:30:00"), -30 * kMicrosPerMinute);
}

TEST(Duration, ClockNotation) {
    EXPECT_EQ(us("01:30"), 90 * kMicrosPerMinute);
    EXPECT_EQ(us("1 day 02:30:15"), kMicrosPerDay + 2 * kMicrosPerHour + 30 * kMicrosPerMinute + 15 * kMicrosPerSecond);
    EXPECT_EQ(us("00:00:01.5"), 1500000);
}

TEST(Duration, RefusesCalendarUnitsAndGarbage) {
    EXPECT_TRUE(refused("1 month"));
    EXPECT_TRUE(refused("2 years"));
    EXPECT_TRUE(refused("1 fortnight"));
    EXPECT_TRUE(refused("minutes"));
    EXPECT_TRUE(refused("1:2:3:4"));
    EXPECT_TRUE(refused("00:61"));
    EXPECT_TRUE(refused("01:00 02:00")) << "only one clock part";
    EXPECT_TRUE(refused("99999999999999999999 days")) << "overflow is refused, not wrapped";
    EXPECT_FALSE(parse_duration("1 month").error.empty());
}

TEST(Duration, FormatIsCanonical) {
    EXPECT_EQ(format_duration(0), "0");
    EXPECT_EQ(format_duration(-15 * kMicrosPerMinute), "-00:15:00");
    EXPECT_EQ(format_duration(kMicrosPerDay + 2 * kMicrosPerHour + 30 * kMicrosPerMinute), "1 day 02:30:00");
    EXPECT_EQ(format_duration(3 * kMicrosPerDay), "3 days");
    EXPECT_EQ(format_duration(1500000), "00:00:01.500000");
    EXPECT_EQ(format_duration(INT64_MIN).substr(0, 1), "-") << "INT64_MIN must not overflow";
}

TEST(Duration, FormatRoundTrips) {
    for (std::int64_t v : {std::int64_t{1}, kMicrosPerSecond, -kMicrosPerHour, 36 * kMicrosPerHour + 7,
                           400 * kMicrosPerDay}) {
        EXPECT_EQ(us(format_duration(v).c_str()), v) << format_duration(v);
    }
}
