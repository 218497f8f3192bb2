#include <gtest/gtest.h>

#include "core/phi/rules.hpp"

using namespace vlx::core::phi;

namespace {
PatientId patient(int n) {
    PatientId p{};
    p[15] = static_cast<std::uint8_t>(n);
    p[14] = static_cast<std::uint8_t>(n >> 8);
    return p;
}
constexpr std::int64_t kMin = 60 * kUsecPerSec;
}  // namespace

TEST(RateBucket, EncodeDecodeRoundTrip) {
    RateBucket b;
    b.touch(patient(1), 5, 50);
    b.touch(patient(2), -7, 50);
    RateBucket c = RateBucket::decode(b.encode());
    ASSERT_EQ(c.entries().size(), 2u);
    EXPECT_EQ(c.entries()[1].last_seen, -7);
    EXPECT_TRUE(RateBucket::decode("garbage").entries().empty());
}

TEST(RateBucket, DistinctPatientsCountOnceAndCapEvictsOldest) {
    RateBucket b;
    for (int i = 0; i < 10; ++i) b.touch(patient(1), i, 3);
    EXPECT_EQ(b.entries().size(), 1u);
    EXPECT_EQ(b.entries()[0].last_seen, 9);
    b.touch(patient(2), 10, 3);
    b.touch(patient(3), 11, 3);
    b.touch(patient(4), 12, 3);
    ASSERT_EQ(b.entries().size(), 3u);
    for (const auto& e : b.entries()) EXPECT_NE(e.patient, patient(1));
}

TEST(RateWindow, SlidingWindowSpansTwoBuckets) {
    const std::int64_t window = 10 * kMin;
    RateBucket prev, cur;
    for (int i = 0; i < 30; ++i) prev.touch(patient(i), 5 * kMin + i * kUsecPerSec, 50);  // bucket 0
    for (int i = 30; i < 50; ++i) cur.touch(patient(i), 11 * kMin, 50);                     // bucket 1
    EXPECT_EQ(distinct_in_window(&prev, cur, 11 * kMin, window), 50u);
    // 16 minutes: the first bucket's accesses (5:00..5:29) are out of the window
    EXPECT_EQ(distinct_in_window(&prev, cur, 16 * kMin, window), 20u);
    // the window ending at a back-filled time does not count later accesses
    EXPECT_EQ(distinct_in_window(&prev, cur, 10 * kMin, window), 30u);
    EXPECT_EQ(floor_div(-1, 10), -1);
    EXPECT_EQ(floor_div(10, 10), 1);
}

TEST(Baseline, MeanAndPopulationStddev) {
    BaselineStats s = baseline({2, 4, 4, 4, 5, 5, 7, 9});
    EXPECT_EQ(s.days, 8);
    EXPECT_DOUBLE_EQ(s.mean, 5.0);
    EXPECT_DOUBLE_EQ(s.stddev, 2.0);
    EXPECT_TRUE(above_baseline(s, 12, 3.0, 7));
    EXPECT_FALSE(above_baseline(s, 11, 3.0, 7));  // equal to the threshold is not above
    EXPECT_FALSE(above_baseline(s, 100, 3.0, 9));  // too little history
    EXPECT_FALSE(above_baseline(baseline({}), 100, 3.0, 1));
    BaselineStats flat = baseline({4, 4, 4, 4, 4, 4, 4});
    EXPECT_FALSE(above_baseline(flat, 4, 3.0, 7));
    EXPECT_TRUE(above_baseline(flat, 5, 3.0, 7));
}

TEST(UnusualHours, NightKeyGroupsAWrappingWindow) {
    const std::int64_t day = kUsecPerDay;
    // window 23:00-02:00: 23:30 of day 5 and 01:00 of day 6 are the same night
    EXPECT_EQ(night_key(5 * day + 23 * 60 * kMin + 30 * kMin, 23 * 60),
              night_key(6 * day + 1 * 60 * kMin, 23 * 60));
    EXPECT_NE(night_key(5 * day + 3 * 60 * kMin, 3 * 60), night_key(6 * day + 3 * 60 * kMin, 3 * 60));
    EXPECT_EQ(minute_of_day(5 * day + 210 * kMin), 210);
    EXPECT_EQ(minute_of_day(-30 * kMin), 23 * 60 + 30);
    EXPECT_EQ(local_day(-1), -1);
}

TEST(Dedup, SessionizedAndKeyedWindows) {
    OpenEvent e{1, 7, 100 * kMin, 100 * kMin, 1};
    const std::int64_t gap = 10 * kMin;
    EXPECT_TRUE(extends(Rule::Rate, e, 105 * kMin, 0, gap));
    absorb(e, 105 * kMin);
    EXPECT_EQ(e.access_count, 2);
    EXPECT_TRUE(extends(Rule::Rate, e, 115 * kMin, 0, gap));
    EXPECT_FALSE(extends(Rule::Rate, e, 116 * kMin, 0, gap));
    EXPECT_TRUE(extends(Rule::CrossPractice, e, 91 * kMin, 0, gap));  // back-filled, same burst
    EXPECT_TRUE(extends(Rule::UnusualHours, e, 999 * kMin, 7, gap));
    EXPECT_FALSE(extends(Rule::Baseline, e, 100 * kMin, 8, gap));
    EXPECT_STREQ(event_type(Rule::Baseline), "phi_baseline_deviation");
    EXPECT_STREQ(severity(Rule::CrossPractice), "high");
    EXPECT_STREQ(severity(Rule::UnusualHours), "medium");
    EXPECT_EQ(rule_from_event_type("phi_unusual_hours"), Rule::UnusualHours);
}
