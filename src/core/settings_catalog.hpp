// Every vitaluxe_security.* setting, as data: name, type, default, bounds, unit, who may
// change it. The PostgreSQL layer registers GUCs from this table, and the unit tests check
// it against SPEC, so a default is written in exactly one place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace vlx::core {

enum class Setting : int {
    ClockOffset,
    Actor,
    LockoutThreshold,
    LockoutWindow,
    LockoutDuration,
    CaptchaAfter,
    IpAccountThreshold,
    LockoutBackoff,
    UnlockMonitorDuration,
    PhiRateThreshold,
    PhiRateWindow,
    PhiCrossPracticeRoles,
    UnusualHours,
    Timezone,
    PhiBaselineSigma,
    PhiBaselineMinDays,
    PhiFutureSkew,
    MasterKeyFile,
    MasterKeyCommand,
    KeyMaxAge,
    KeyMaxEncryptions,
    KeyCacheSize,
    SessionIdleTimeout,
    ImpersonationRepeatThreshold,
    ImpersonationRepeatWindow,
    OrderPatientThreshold,
    OrderPatientWindow,
    ControlledQuantityThreshold,
    OrderAllowedStates,
    DbLoginProtection,
    Count_  // not a setting
};
constexpr std::size_t kSettingCount = static_cast<std::size_t>(Setting::Count_);

enum class SettingType { Int, Real, Bool, String };

// Integer units, as PostgreSQL displays them ("15min", "90d").
enum class SettingUnit { None, Seconds, Minutes };

// Who may change a setting. Everything that could weaken a rule is superuser-only.
enum class SettingContext { Session, Superuser, Reload };

// How a string setting's text is checked before it is accepted.
enum class StringGrammar { Free, Duration, NameList, StateList, HoursWindow, TimeZone, Int64, Path };

struct SettingSpec {
    Setting id;
    const char* name;  // without the "vitaluxe_security." prefix
    SettingType type;
    SettingContext context;
    SettingUnit unit;
    long long int_default, int_min, int_max;
    double real_default, real_min, real_max;
    bool bool_default;
    const char* string_default;
    StringGrammar grammar;
    const char* description;
};

constexpr const char* kSettingPrefix = "vitaluxe_security";

// The whole catalog, indexed by Setting.
const SettingSpec& setting_spec(Setting id);
const SettingSpec* settings_begin();
const SettingSpec* settings_end();

// nullopt when `value` is acceptable for a string setting, else the reason. TimeZone is
// checked by the PostgreSQL layer (it needs the server's zone database); here it only
// refuses what can never be a zone name.
std::optional<std::string> check_string_setting(const SettingSpec& spec, const char* value);

}  // namespace vlx::core
