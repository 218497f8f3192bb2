// The catalog is the single place where SPEC's defaults live; these tests pin them to SPEC.
#include "core/settings_catalog.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <string>

using namespace vlx::core;

TEST(SettingsCatalog, IndexedByEnumAndNamesUnique) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < kSettingCount; ++i) {
        const SettingSpec& spec = setting_spec(static_cast<Setting>(i));
        EXPECT_EQ(static_cast<std::size_t>(spec.id), i) << spec.name << " is out of order";
        EXPECT_TRUE(names.insert(spec.name).second) << "duplicate " << spec.name;
        EXPECT_GT(std::strlen(spec.description), 10u) << spec.name;
    }
}

TEST(SettingsCatalog, SpecDefaults) {
    auto i = [](Setting s) { return setting_spec(s).int_default; };
    EXPECT_EQ(i(Setting::LockoutThreshold), 5);
    EXPECT_EQ(i(Setting::LockoutWindow), 15 * 60);
    EXPECT_EQ(setting_spec(Setting::LockoutWindow).unit, SettingUnit::Seconds);
    EXPECT_EQ(i(Setting::LockoutDuration), 30 * 60);
    EXPECT_EQ(i(Setting::CaptchaAfter), 3);
    EXPECT_EQ(i(Setting::IpAccountThreshold), 3);
    EXPECT_DOUBLE_EQ(setting_spec(Setting::LockoutBackoff).real_default, 1.0);
    EXPECT_EQ(i(Setting::UnlockMonitorDuration), 86400);
    EXPECT_EQ(i(Setting::PhiRateThreshold), 50);
    EXPECT_EQ(i(Setting::PhiRateWindow), 10 * 60);
    EXPECT_STREQ(setting_spec(Setting::PhiCrossPracticeRoles).string_default, "admin,pharmacy");
    EXPECT_STREQ(setting_spec(Setting::UnusualHours).string_default, "03:00-05:00");
    EXPECT_DOUBLE_EQ(setting_spec(Setting::PhiBaselineSigma).real_default, 3.0);
    EXPECT_EQ(i(Setting::PhiBaselineMinDays), 7);
    EXPECT_EQ(i(Setting::PhiFutureSkew), 300);
    EXPECT_EQ(i(Setting::KeyMaxAge), 90 * 24 * 60);
    EXPECT_EQ(setting_spec(Setting::KeyMaxAge).unit, SettingUnit::Minutes);
    EXPECT_STREQ(setting_spec(Setting::KeyMaxEncryptions).string_default, "2147483648");
    EXPECT_EQ(i(Setting::SessionIdleTimeout), 30 * 60);
    EXPECT_EQ(i(Setting::ImpersonationRepeatThreshold), 3);
    EXPECT_EQ(i(Setting::ImpersonationRepeatWindow), 7 * 86400);
    EXPECT_EQ(i(Setting::OrderPatientThreshold), 3);
    EXPECT_EQ(i(Setting::OrderPatientWindow), 86400);
    EXPECT_EQ(i(Setting::ControlledQuantityThreshold), 90);
    EXPECT_TRUE(setting_spec(Setting::DbLoginProtection).bool_default);
    EXPECT_STREQ(setting_spec(Setting::ClockOffset).string_default, "0");
}

TEST(SettingsCatalog, DefaultsLieWithinBoundsAndPassTheirOwnChecks) {
    for (const SettingSpec* s = settings_begin(); s != settings_end(); ++s) {
        if (s->type == SettingType::Int) {
            EXPECT_LE(s->int_min, s->int_default) << s->name;
            EXPECT_LE(s->int_default, s->int_max) << s->name;
            EXPECT_LE(s->int_max, 2147483647LL) << s->name << " must fit a PostgreSQL int GUC";
        } else if (s->type == SettingType::Real) {
            EXPECT_LE(s->real_min, s->real_default) << s->name;
            EXPECT_LE(s->real_default, s->real_max) << s->name;
        } else if (s->type == SettingType::String) {
            EXPECT_FALSE(check_string_setting(*s, s->string_default).has_value()) << s->name;
        }
    }
}

TEST(SettingsCatalog, OnlyTheActorIsUserSettable) {
    // Every rule threshold could be raised by an attacker's session to switch a rule off.
    for (const SettingSpec* s = settings_begin(); s != settings_end(); ++s) {
        if (s->id == Setting::Actor)
            EXPECT_EQ(s->context, SettingContext::Session);
        else
            EXPECT_NE(s->context, SettingContext::Session) << s->name << " must not be user-settable";
    }
}

TEST(SettingsCatalog, StringChecksRefuseBadValues) {
    EXPECT_TRUE(check_string_setting(setting_spec(Setting::ClockOffset), "1 month"));
    EXPECT_FALSE(check_string_setting(setting_spec(Setting::ClockOffset), "-2 hours"));
    EXPECT_TRUE(check_string_setting(setting_spec(Setting::UnusualHours), "3am-5am"));
    EXPECT_FALSE(check_string_setting(setting_spec(Setting::UnusualHours), ""));
    EXPECT_TRUE(check_string_setting(setting_spec(Setting::PhiCrossPracticeRoles), "Admin"));
    EXPECT_TRUE(check_string_setting(setting_spec(Setting::KeyMaxEncryptions), "0"));
    EXPECT_TRUE(check_string_setting(setting_spec(Setting::KeyMaxEncryptions), "4294967297"));
    EXPECT_TRUE(check_string_setting(setting_spec(Setting::MasterKeyFile), "relative/key.hex"));
    EXPECT_TRUE(check_string_setting(setting_spec(Setting::OrderAllowedStates), "ca"));
    EXPECT_TRUE(check_string_setting(setting_spec(Setting::Timezone), "America/New York; DROP"));
}
