#include "core/error.hpp"
#include "core/login/email.hpp"

#include <gtest/gtest.h>

using namespace vlx::core;
using vlx::core::login::normalize_email;

TEST(Email, TrimmedAndCaseInsensitive) {
    EXPECT_EQ(normalize_email("  Dr.Smith@Clinic.COM\t"), "dr.smith@clinic.com");
    EXPECT_EQ(normalize_email("a@b"), "a@b");
}

TEST(Email, UnknownShapesStillCount) {
    EXPECT_EQ(normalize_email("admin"), "admin") << "attackers guess usernames too";
}

TEST(Email, RefusesEmptyLongAndControl) {
    auto kind_of = [](const std::string& s) {
        try {
            normalize_email(s);
        } catch (const Error& e) {
            return e.kind();
        }
        return ErrorKind::Internal;
    };
    EXPECT_EQ(kind_of(""), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of("   "), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_of(std::string(255, 'a')), ErrorKind::InvalidParameter);
    EXPECT_EQ(normalize_email(std::string(254, 'a')).size(), 254u);
    EXPECT_EQ(normalize_email("  " + std::string(254, 'a') + "  ").size(), 254u) << "the limit applies after trimming";
    EXPECT_EQ(kind_of("a\x01@b"), ErrorKind::InvalidParameter);
}
