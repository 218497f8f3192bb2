// Small text grammars shared by settings and rules: comma lists of names, and a daily
// hours window such as "03:00-05:00". Pure functions, unit-tested in test/unit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vlx::core {

// "admin, pharmacy" -> {"admin","pharmacy"}; each name lower-case [a-z][a-z0-9_]*.
// nullopt (with *error set) when a name is malformed. An empty string is an empty list.
std::optional<std::vector<std::string>> parse_name_list(std::string_view text, std::string* error);

// "CA,NY" -> {"CA","NY"}: two upper-case letters each (US state / territory codes).
std::optional<std::vector<std::string>> parse_state_list(std::string_view text, std::string* error);

// A daily window of local time, [start, end), in minutes after midnight. It may wrap
// midnight ("22:00-02:00"). Empty text means no window (the rule is off): nullopt with
// *error left empty; malformed text is nullopt with *error saying why.
struct HoursWindow {
    int start_minute = 0;
    int end_minute = 0;
    bool contains(int minute_of_day) const {
        if (start_minute <= end_minute) return minute_of_day >= start_minute && minute_of_day < end_minute;
        return minute_of_day >= start_minute || minute_of_day < end_minute;
    }
};
std::optional<HoursWindow> parse_hours_window(std::string_view text, std::string* error);

// A decimal integer in [min, max] (min >= 0), no sign, no trailing text.
std::optional<std::int64_t> parse_bounded_int64(std::string_view text, std::int64_t min, std::int64_t max,
                                                std::string* error);

}  // namespace vlx::core
