// Durations written the way a DBA writes a PostgreSQL interval ('15 min', '-2 hours',
// '1 day 02:30:00'), converted to microseconds. Months and years are refused on purpose:
// their length depends on the calendar, and a security window must mean one span of time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vlx::core {

constexpr std::int64_t kMicrosPerSecond = 1000000;
constexpr std::int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr std::int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr std::int64_t kMicrosPerDay = 24 * kMicrosPerHour;

struct DurationParse {
    std::optional<std::int64_t> micros;  // set on success
    std::string error;                   // why it was refused, otherwise
};

// Accepts a sequence of "<number> <unit>" terms and at most one "[-]HH:MM[:SS[.ffffff]]",
// each optionally signed, with an optional leading '@' as PostgreSQL allows. Units: us, ms,
// s, sec, second(s), min, minute(s), h, hour(s), d, day(s), w, week(s). An empty string is 0.
DurationParse parse_duration(std::string_view text);

// The canonical spelling ("1 day 02:30:00", "-00:15:00", "0") used in messages.
std::string format_duration(std::int64_t micros);

}  // namespace vlx::core
