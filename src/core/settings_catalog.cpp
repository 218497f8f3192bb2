#include "core/settings_catalog.hpp"

#include "core/duration.hpp"
#include "core/text_rules.hpp"

#include <cstring>

namespace vlx::core {
namespace {

constexpr long long kDay = 86400;

constexpr SettingSpec int_setting(Setting id, const char* name, SettingContext ctx, SettingUnit unit, long long def,
                                  long long min, long long max, const char* desc) {
    return {id, name, SettingType::Int, ctx, unit, def, min, max, 0, 0, 0, false, nullptr, StringGrammar::Free, desc};
}
constexpr SettingSpec real_setting(Setting id, const char* name, double def, double min, double max,
                                   const char* desc) {
    return {id, name, SettingType::Real, SettingContext::Superuser, SettingUnit::None, 0, 0, 0, def, min, max, false,
            nullptr, StringGrammar::Free, desc};
}
constexpr SettingSpec string_setting(Setting id, const char* name, SettingContext ctx, const char* def,
                                     StringGrammar grammar, const char* desc) {
    return {id, name, SettingType::String, ctx, SettingUnit::None, 0, 0, 0, 0, 0, 0, false, def, grammar, desc};
}
constexpr SettingSpec bool_setting(Setting id, const char* name, SettingContext ctx, bool def, const char* desc) {
    return {id, name, SettingType::Bool, ctx, SettingUnit::None, 0, 0, 0, 0, 0, 0, def, nullptr,
            StringGrammar::Free, desc};
}

using C = SettingContext;
using U = SettingUnit;
using G = StringGrammar;
using S = Setting;

// Order must follow enum Setting: setting_spec() indexes this array (checked by a unit test).
constexpr SettingSpec kCatalog[] = {
    string_setting(S::ClockOffset, "clock_offset", C::Superuser, "0", G::Duration,
                   "Interval added to now() for every stamp, window and expiry of the extension (time travel for tests)."),
    string_setting(S::Actor, "actor", C::Session, "", G::Free,
                   "Who performs admin actions, set by the application with SET LOCAL; empty means session_user."),
    int_setting(S::LockoutThreshold, "lockout_threshold", C::Superuser, U::None, 5, 1, 1000,
                "Failed logins within lockout_window that lock an account."),
    int_setting(S::LockoutWindow, "lockout_window", C::Superuser, U::Seconds, 15 * 60, 1, 7 * kDay,
                "Window in which failed logins are counted."),
    int_setting(S::LockoutDuration, "lockout_duration", C::Superuser, U::Seconds, 30 * 60, 1, 365 * kDay,
                "How long a brute-force lockout lasts."),
    int_setting(S::CaptchaAfter, "captcha_after", C::Superuser, U::None, 3, 1, 1000,
                "Failed logins within lockout_window after which the verdict requires a CAPTCHA."),
    int_setting(S::IpAccountThreshold, "ip_account_threshold", C::Superuser, U::None, 3, 2, 100000,
                "Distinct accounts failed from one IP within lockout_window that raise ip_multi_account."),
    real_setting(S::LockoutBackoff, "lockout_backoff", 1.0, 1.0, 100.0,
                 "Multiplier of lockout_duration for each repeat lockout within 24 hours (1.0 = off)."),
    int_setting(S::UnlockMonitorDuration, "unlock_monitor_duration", C::Superuser, U::Seconds, kDay, 60, 30 * kDay,
                "After an admin unlock, how long the account is watched for post_unlock_failure."),
    int_setting(S::PhiRateThreshold, "phi_rate_threshold", C::Superuser, U::None, 50, 1, 10000000,
                "Distinct patients one user may access within phi_rate_window before phi_access_rate."),
    int_setting(S::PhiRateWindow, "phi_rate_window", C::Superuser, U::Seconds, 10 * 60, 1, kDay,
                "Window of the PHI access rate rule."),
    string_setting(S::PhiCrossPracticeRoles, "phi_cross_practice_roles", C::Superuser, "admin,pharmacy",
                   G::NameList, "Roles allowed to read PHI of other practices without phi_cross_practice."),
    string_setting(S::UnusualHours, "unusual_hours", C::Superuser, "03:00-05:00", G::HoursWindow,
                   "Local time window (HH:MM-HH:MM) in which PHI access raises phi_unusual_hours; empty = off."),
    string_setting(S::Timezone, "timezone", C::Superuser, "", G::TimeZone,
                   "Time zone for unusual_hours when the account has none; empty = the server's TimeZone."),
    real_setting(S::PhiBaselineSigma, "phi_baseline_sigma", 3.0, 0.5, 100.0,
                 "Standard deviations above the 30-day daily mean that raise phi_baseline_deviation."),
    int_setting(S::PhiBaselineMinDays, "phi_baseline_min_days", C::Superuser, U::None, 7, 1, 30,
                "Days of history a user needs before the baseline rule judges them."),
    int_setting(S::PhiFutureSkew, "phi_future_skew", C::Superuser, U::Seconds, 5 * 60, 0, kDay,
                "How far in the future an audit_logs occurred_at may be (clock skew) before the row is refused."),
    string_setting(S::MasterKeyFile, "master_key_file", C::Superuser, "", G::Path,
                   "File holding the 256-bit master key in hex; refused when group or world readable."),
    string_setting(S::MasterKeyCommand, "master_key_command", C::Superuser, "", G::Free,
                   "Command (HSM/KMS CLI) that prints the master key in hex; used when master_key_file is empty."),
    int_setting(S::KeyMaxAge, "key_max_age", C::Superuser, U::Minutes, 90 * 24 * 60, 60, 3650LL * 24 * 60,
                "Age after which a data key raises key_rotation_due."),
    string_setting(S::KeyMaxEncryptions, "key_max_encryptions", C::Superuser, "2147483648", G::Int64,
                   "Encryptions after which a data key is rotated (random 96-bit nonces: at most 2^32)."),
    int_setting(S::KeyCacheSize, "key_cache_size", C::Superuser, U::None, 64, 1, 4096,
                "Unwrapped data keys a backend keeps in (wiped) memory."),
    int_setting(S::SessionIdleTimeout, "session_idle_timeout", C::Superuser, U::Seconds, 30 * 60, 60, 7 * kDay,
                "Inactivity after which a session no longer counts as live."),
    int_setting(S::ImpersonationRepeatThreshold, "impersonation_repeat_threshold", C::Superuser, U::None, 3, 1, 1000,
                "Impersonations of one target within impersonation_repeat_window that raise impersonation_repeat."),
    int_setting(S::ImpersonationRepeatWindow, "impersonation_repeat_window", C::Superuser, U::Seconds, 7 * kDay,
                3600, 365 * kDay, "Window of the repeated impersonation rule."),
    int_setting(S::OrderPatientThreshold, "order_patient_threshold", C::Superuser, U::None, 3, 1, 1000,
                "Orders for one patient within order_patient_window above which an order is suspicious."),
    int_setting(S::OrderPatientWindow, "order_patient_window", C::Superuser, U::Seconds, kDay, 60, 365 * kDay,
                "Window of the per-patient order frequency rule."),
    int_setting(S::ControlledQuantityThreshold, "controlled_quantity_threshold", C::Superuser, U::None, 90, 1,
                1000000, "Units of a schedule II-V product on one line above which an order is suspicious."),
    string_setting(S::OrderAllowedStates, "order_allowed_states", C::Superuser, "", G::StateList,
                   "Ship-to states allowed for every practice (comma list), besides each practice's own."),
    bool_setting(S::DbLoginProtection, "db_login_protection", C::Reload, true,
                 "With preload: record failed database-role logins and apply the lockout rules to them."),
};

static_assert(sizeof(kCatalog) / sizeof(kCatalog[0]) == kSettingCount, "one catalog entry per Setting");

}  // namespace

const SettingSpec& setting_spec(Setting id) { return kCatalog[static_cast<std::size_t>(id)]; }
const SettingSpec* settings_begin() { return kCatalog; }
const SettingSpec* settings_end() { return kCatalog + kSettingCount; }

std::optional<std::string> check_string_setting(const SettingSpec& spec, const char* value) {
    std::string error;
    std::string_view text = value ? value : "";
    switch (spec.grammar) {
        case StringGrammar::Free:
            if (text.size() > 1024) return std::string("longer than 1024 characters");
            return std::nullopt;
        case StringGrammar::Duration: {
            auto parsed = parse_duration(text);
            if (!parsed.micros) return parsed.error;
            return std::nullopt;
        }
        case StringGrammar::NameList:
            if (!parse_name_list(text, &error)) return error;
            return std::nullopt;
        case StringGrammar::StateList:
            if (!parse_state_list(text, &error)) return error;
            return std::nullopt;
        case StringGrammar::HoursWindow:
            if (!parse_hours_window(text, &error) && !error.empty()) return error;
            return std::nullopt;
        case StringGrammar::TimeZone:
            if (text.size() > 64 || text.find_first_of(" \t\n;'\"") != std::string_view::npos)
                return std::string("not a time zone name");
            return std::nullopt;
        case StringGrammar::Int64:
            if (!parse_bounded_int64(text, 1, 4294967296LL, &error)) return error;
            return std::nullopt;
        case StringGrammar::Path:
            if (!text.empty() && text.front() != '/') return std::string("must be an absolute path");
            if (text.size() > 1024) return std::string("longer than 1024 characters");
            return std::nullopt;
    }
    return std::string("unknown grammar");
}

}  // namespace vlx::core
