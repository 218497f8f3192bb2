#include "pg/postgres.hpp"

#include "core/duration.hpp"
#include "core/text_rules.hpp"
#include "pg/settings.hpp"

namespace vlx::pg::settings {
namespace {

using core::Setting;
using core::SettingSpec;
using core::SettingType;

constexpr std::size_t N = core::kSettingCount;

// GUC storage: PostgreSQL writes the current value into these.
int g_int[N];
double g_real[N];
bool g_bool[N];
char* g_string[N];
// Parsed forms of string settings that carry a number (kept by the assign hooks).
std::int64_t g_parsed[N];

std::size_t index_of(Setting id) { return static_cast<std::size_t>(id); }

GucContext context_of(const SettingSpec& spec) {
    switch (spec.context) {
        case core::SettingContext::Session: return PGC_USERSET;
        case core::SettingContext::Superuser: return PGC_SUSET;
        case core::SettingContext::Reload: return PGC_SIGHUP;
    }
    return PGC_SUSET;
}

int unit_flags(const SettingSpec& spec) {
    switch (spec.unit) {
        case core::SettingUnit::None: return 0;
        case core::SettingUnit::Seconds: return GUC_UNIT_S;
        case core::SettingUnit::Minutes: return GUC_UNIT_MIN;
    }
    return 0;
}

// Check hook for string settings. It runs inside PostgreSQL's GUC machinery, so nothing
// may escape it: the core check is pure C++ and is fenced with try/catch; the reason for a
// refusal is copied out before any PostgreSQL call.
template <std::size_t I>
bool check_string(char** newval, void** extra, GucSource) {
    const SettingSpec& spec = core::setting_spec(static_cast<Setting>(I));
    char reason[256] = {};
    bool ok = false;
    std::int64_t parsed = 0;
    try {
        auto refusal = core::check_string_setting(spec, *newval);
        if (refusal) {
            snprintf(reason, sizeof reason, "%s", refusal->c_str());
        } else {
            ok = true;
            if (spec.grammar == core::StringGrammar::Duration) {
                parsed = *core::parse_duration(*newval ? *newval : "").micros;
            } else if (spec.grammar == core::StringGrammar::Int64) {
                parsed = *core::parse_bounded_int64(*newval ? *newval : "", 1, INT64_MAX, nullptr);
            }
        }
    } catch (...) {
        snprintf(reason, sizeof reason, "could not check the value");
    }
    if (ok && spec.grammar == core::StringGrammar::Duration && (parsed > 36500 * core::kMicrosPerDay ||
                                                                parsed < -36500 * core::kMicrosPerDay)) {
        ok = false;
        snprintf(reason, sizeof reason, "must be within 100 years");
    }
    if (ok && spec.grammar == core::StringGrammar::TimeZone && *newval && **newval &&
        pg_tzset(*newval) == nullptr) {
        ok = false;
        snprintf(reason, sizeof reason, "unknown time zone \"%s\"", *newval);
    }
    if (!ok) {
        GUC_check_errdetail("%s", reason);
        return false;
    }
    auto* stored = static_cast<std::int64_t*>(malloc(sizeof(std::int64_t)));  // GUC frees extra with free()
    if (!stored) return false;
    *stored = parsed;
    *extra = stored;
    return true;
}

template <std::size_t I>
void assign_string(const char*, void* extra) {
    g_parsed[I] = extra ? *static_cast<std::int64_t*>(extra) : 0;
}

template <std::size_t... I>
constexpr auto make_check_hooks(std::index_sequence<I...>) {
    return std::array<GucStringCheckHook, N>{&check_string<I>...};
}
template <std::size_t... I>
constexpr auto make_assign_hooks(std::index_sequence<I...>) {
    return std::array<GucStringAssignHook, N>{&assign_string<I>...};
}

}  // namespace

void define_all() {
    static const auto check_hooks = make_check_hooks(std::make_index_sequence<N>{});
    static const auto assign_hooks = make_assign_hooks(std::make_index_sequence<N>{});
    for (const SettingSpec* spec = core::settings_begin(); spec != core::settings_end(); ++spec) {
        const std::size_t i = index_of(spec->id);
        char name[128];
        snprintf(name, sizeof name, "%s.%s", core::kSettingPrefix, spec->name);
        const GucContext context = context_of(*spec);
        switch (spec->type) {
            case SettingType::Int:
                DefineCustomIntVariable(name, spec->description, nullptr, &g_int[i], static_cast<int>(spec->int_default),
                                        static_cast<int>(spec->int_min), static_cast<int>(spec->int_max), context,
                                        unit_flags(*spec), nullptr, nullptr, nullptr);
                break;
            case SettingType::Real:
                DefineCustomRealVariable(name, spec->description, nullptr, &g_real[i], spec->real_default,
                                         spec->real_min, spec->real_max, context, 0, nullptr, nullptr, nullptr);
                break;
            case SettingType::Bool:
                DefineCustomBoolVariable(name, spec->description, nullptr, &g_bool[i], spec->bool_default, context, 0,
                                         nullptr, nullptr, nullptr);
                break;
            case SettingType::String: {
                // The master key's source is nobody's business but the superuser's.
                const int flags = spec->grammar == core::StringGrammar::Path ||
                                          spec->id == Setting::MasterKeyCommand
                                      ? GUC_SUPERUSER_ONLY
                                      : 0;
                DefineCustomStringVariable(name, spec->description, nullptr, &g_string[i], spec->string_default,
                                           context, flags, check_hooks[i], assign_hooks[i], nullptr);
                break;
            }
        }
    }
    MarkGUCPrefixReserved(core::kSettingPrefix);
}

int integer(Setting id) { return g_int[index_of(id)]; }
double real(Setting id) { return g_real[index_of(id)]; }
bool boolean(Setting id) { return g_bool[index_of(id)]; }
const char* string(Setting id) {
    const char* value = g_string[index_of(id)];
    return value ? value : "";
}

std::int64_t interval_us(Setting id) {
    const SettingSpec& spec = core::setting_spec(id);
    const std::int64_t value = g_int[index_of(id)];
    return spec.unit == core::SettingUnit::Minutes ? value * core::kMicrosPerMinute : value * core::kMicrosPerSecond;
}

std::int64_t clock_offset_us() { return g_parsed[index_of(Setting::ClockOffset)]; }
std::int64_t key_max_encryptions() { return g_parsed[index_of(Setting::KeyMaxEncryptions)]; }

}  // namespace vlx::pg::settings
