#include "core/error.hpp"
#include "core/login/email.hpp"

#include <gtest/gtest.h>

using namespace vlx::core;
using vlx::core::login::has_non_ascii;
using vlx::core::login::normalize_email;

TEST(Email, TrimmedAndCaseInsensitive) {
    EXPECT_EQ(normalize_email("  Dr.Smith@Clinic.COM\t"), "dr.smith@clinic.com");
    EXPECT_EQ(normalize_email("a@b"), "a@b");
}

TEST(Email, UnknownShapesStillCount) {
    EXPECT_EQ(normalize_email("admin"), "admin") << "attackers guess usernames too";
}

namespace {
ErrorKind kind_of(const std::string& s) {
    try {
        normalize_email(s);
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind::Internal;
}
}  // namespace

TEST(Email, RefusesEmptyLongAndControl) {
    EXPECT_EQ(kind_of(""), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of("   "), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of(std::string(255, 'a')), ErrorKind::InvalidParameter);
    EXPECT_EQ(normalize_email(std::string(254, 'a')).size(), 254u);
    EXPECT_EQ(normalize_email("  " + std::string(254, 'a') + "  ").size(), 254u) << "the limit applies after trimming";
    EXPECT_EQ(kind_of("a\x01@b"), ErrorKind::InvalidParameter);
}

TEST(Email, LengthCountsCharactersNotBytes) {
    std::string accented;
    for (int i = 0; i < 212; ++i) accented += "\xc3\xa9";  // 212 x U+00E9, 424 bytes
    EXPECT_EQ(normalize_email(accented + "@x.example").size(), 424u + 10u);
    std::string too_long;
    for (int i = 0; i < 255; ++i) too_long += "\xc3\xa9";
    EXPECT_EQ(kind_of(too_long), ErrorKind::InvalidParameter);
    EXPECT_TRUE(has_non_ascii(accented));
    EXPECT_FALSE(has_non_ascii("plain@ascii.example"));
}
