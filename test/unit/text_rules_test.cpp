#include "core/text_rules.hpp"

#include <gtest/gtest.h>

using namespace vlx::core;

TEST(NameList, ParsesTrimmedLowerCaseNames) {
    std::string error;
    auto names = parse_name_list(" admin, pharmacy ,billing_2", &error);
    ASSERT_TRUE(names) << error;
    EXPECT_EQ(*names, (std::vector<std::string>{"admin", "pharmacy", "billing_2"}));
    EXPECT_TRUE(parse_name_list("", &error)->empty());
}

TEST(NameList, RefusesMalformedNames) {
    std::string error;
    EXPECT_FALSE(parse_name_list("Admin", &error));
    EXPECT_NE(error.find("Admin"), std::string::npos) << "the message names the culprit";
    EXPECT_FALSE(parse_name_list("admin,,pharmacy", &error)) << "empty item";
    EXPECT_FALSE(parse_name_list("2fa", &error));
    EXPECT_FALSE(parse_name_list("drop table;", &error));
}

TEST(StateList, TwoUpperCaseLetters) {
    std::string error;
    auto states = parse_state_list("CA, NY,TX", &error);
    ASSERT_TRUE(states) << error;
    EXPECT_EQ(states->size(), 3u);
    EXPECT_FALSE(parse_state_list("ca", &error));
    EXPECT_FALSE(parse_state_list("CAL", &error));
}

TEST(HoursWindow, DefaultWindow) {
    std::string error;
    auto w = parse_hours_window("03:00-05:00", &error);
    ASSERT_TRUE(w) << error;
    EXPECT_FALSE(w->contains(2 * 60 + 59));
    EXPECT_TRUE(w->contains(3 * 60));
    EXPECT_TRUE(w->contains(3 * 60 + 30));
    EXPECT_TRUE(w->contains(4 * 60 + 59));
    EXPECT_FALSE(w->contains(5 * 60)) << "the end is exclusive";
}

TEST(HoursWindow, WrapsMidnight) {
    std::string error;
    auto w = parse_hours_window("22:00-02:00", &error);
    ASSERT_TRUE(w) << error;
    EXPECT_TRUE(w->contains(23 * 60));
    EXPECT_TRUE(w->contains(0));
    EXPECT_TRUE(w->contains(60 + 59));
    EXPECT_FALSE(w->contains(2 * 60));
    EXPECT_FALSE(w->contains(12 * 60));
}

TEST(HoursWindow, EmptyMeansOffAndIsNotAnError) {
    std::string error = "stale";
    EXPECT_FALSE(parse_hours_window("  ", &error));
    EXPECT_TRUE(error.empty());
}

TEST(HoursWindow, RefusesMalformed) {
    std::string error;
    for (const char* bad : {"3-5", "03:00", "03:00-03:00", "25:00-05:00", "03:60-05:00", "24:00-01:00", "0300-0500"}) {
        EXPECT_FALSE(parse_hours_window(bad, &error)) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
    auto end_of_day = parse_hours_window("23:00-24:00", &error);
    ASSERT_TRUE(end_of_day) << error;
    EXPECT_TRUE(end_of_day->contains(23 * 60 + 59));
}

TEST(BoundedInt64, Bounds) {
    std::string error;
    EXPECT_EQ(parse_bounded_int64("2147483648", 1, 4294967296LL, &error), 2147483648LL);
    EXPECT_FALSE(parse_bounded_int64("0", 1, 10, &error));
    EXPECT_FALSE(parse_bounded_int64("4294967297", 1, 4294967296LL, &error));
    EXPECT_FALSE(parse_bounded_int64("-1", 0, 10, &error));
    EXPECT_FALSE(parse_bounded_int64("12abc", 0, 100, &error));
    EXPECT_FALSE(parse_bounded_int64("9999999999999999999", 0, INT64_MAX, &error)) << "above 2^63 is refused";
    EXPECT_FALSE(parse_bounded_int64("", 0, 10, &error));
}
