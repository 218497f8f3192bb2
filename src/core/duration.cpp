#include "core/duration.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace vlx::core {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::int64_t> unit_micros(const std::string& unit) {
    struct Unit { const char* name; std::int64_t micros; };
    static const Unit units[] = {
        {"us", 1}, {"usec", 1}, {"usecs", 1}, {"microsecond", 1}, {"microseconds", 1},
        {"ms", 1000}, {"msec", 1000}, {"msecs", 1000}, {"millisecond", 1000}, {"milliseconds", 1000},
        {"s", kMicrosPerSecond}, {"sec", kMicrosPerSecond}, {"secs", kMicrosPerSecond},
        {"second", kMicrosPerSecond}, {"seconds", kMicrosPerSecond},
        {"m", kMicrosPerMinute}, {"min", kMicrosPerMinute}, {"mins", kMicrosPerMinute},
        {"minute", kMicrosPerMinute}, {"minutes", kMicrosPerMinute},
        {"h", kMicrosPerHour}, {"hr", kMicrosPerHour}, {"hrs", kMicrosPerHour},
        {"hour", kMicrosPerHour}, {"hours", kMicrosPerHour},
        {"d", kMicrosPerDay}, {"day", kMicrosPerDay}, {"days", kMicrosPerDay},
        {"w", 7 * kMicrosPerDay}, {"week", 7 * kMicrosPerDay}, {"weeks", 7 * kMicrosPerDay},
    };
    for (const auto& u : units)
        if (unit == u.name) return u.micros;
    return std::nullopt;
}

bool checked_add(std::int64_t& acc, long double value) {
    long double sum = static_cast<long double>(acc) + value;
    if (sum > static_cast<long double>(kMax) || sum < -static_cast<long double>(kMax)) return false;
    acc = static_cast<std::int64_t>(sum);
    return true;
}

// Reads "[-]HH:MM[:SS[.f]]" starting at a digit; returns microseconds or nullopt.
std::optional<long double> read_clock(std::string_view s, std::size_t& pos) {
    long double parts[3] = {0, 0, 0};
    int count = 0;
    while (count < 3) {
        std::size_t start = pos;
        while (pos < s.size() && (is_digit(s[pos]) || (count == 2 && s[pos] == '.'))) ++pos;
        if (pos == start) return std::nullopt;
        parts[count++] = std::strtold(std::string(s.substr(start, pos - start)).c_str(), nullptr);
        if (pos < s.size() && s[pos] == ':' && count < 3) { ++pos; continue; }
        break;
    }
    if (count < 2 || parts[1] >= 60 || parts[2] >= 60) return std::nullopt;
    return parts[0] * kMicrosPerHour + parts[1] * kMicrosPerMinute + parts[2] * kMicrosPerSecond;
}

}  // namespace

DurationParse parse_duration(std::string_view text) {
    std::size_t pos = 0;
    std::int64_t total = 0;
    bool saw_clock = false;
    auto skip_space = [&] { while (pos < text.size() && is_space(text[pos])) ++pos; };

    skip_space();
    if (pos < text.size() && text[pos] == '@') ++pos;
    for (;;) {
        skip_space();
        if (pos >= text.size()) break;
        int sign = 1;
        if (text[pos] == '+' || text[pos] == '-') {
            sign = text[pos] == '-' ? -1 : 1;
            ++pos;
            skip_space();
        }
        std::size_t start = pos;
        while (pos < text.size() && (is_digit(text[pos]) || text[pos] == '.')) ++pos;
        if (pos == start) return {std::nullopt, "expected a number at \"" + std::string(text.substr(start)) + "\""};
        if (pos < text.size() && text[pos] == ':') {
            if (saw_clock) return {std::nullopt, "more than one HH:MM:SS part"};
            pos = start;
            auto clock = read_clock(text, pos);
            if (!clock) return {std::nullopt, "malformed HH:MM[:SS] part"};
            if (!checked_add(total, sign * *clock)) return {std::nullopt, "duration out of range"};
            saw_clock = true;
            continue;
        }
        std::string number(text.substr(start, pos - start));
        char* end = nullptr;
        long double value = std::strtold(number.c_str(), &end);
        if (end == number.c_str() || *end != '\0') return {std::nullopt, "malformed number \"" + number + "\""};
        skip_space();
        std::size_t unit_start = pos;
        while (pos < text.size() && is_alpha(text[pos])) ++pos;
        std::string unit = lower(text.substr(unit_start, pos - unit_start));
        if (unit.empty()) {
            // A bare number is seconds, like PostgreSQL's interval input.
            unit = "s";
        }
        if (unit == "mon" || unit == "mons" || unit == "month" || unit == "months" || unit == "y" ||
            unit == "year" || unit == "years")
            return {std::nullopt, "months and years have no fixed length; use days"};
        auto per = unit_micros(unit);
        if (!per) return {std::nullopt, "unknown time unit \"" + unit + "\""};
        if (!checked_add(total, sign * value * static_cast<long double>(*per)))
            return {std::nullopt, "duration out of range"};
    }
    return {total, {}};
}

std::string format_duration(std::int64_t micros) {
    if (micros == 0) return "0";
    std::string out = micros < 0 ? "-" : "";
    // Magnitude in unsigned arithmetic so INT64_MIN cannot overflow.
    std::uint64_t m = micros < 0 ? 0 - static_cast<std::uint64_t>(micros) : static_cast<std::uint64_t>(micros);
    std::uint64_t days = m / kMicrosPerDay;
    m %= kMicrosPerDay;
    if (days) out += std::to_string(days) + (days == 1 ? " day" : " days");
    if (m) {
        char buf[48];
        std::uint64_t h = m / kMicrosPerHour, mi = m / kMicrosPerMinute % 60, s = m / kMicrosPerSecond % 60,
                      us = m % kMicrosPerSecond;
        if (us)
            std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu.%06llu", (unsigned long long)h,
                          (unsigned long long)mi, (unsigned long long)s, (unsigned long long)us);
        else
            std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu", (unsigned long long)h, (unsigned long long)mi,
                          (unsigned long long)s);
        if (days) out += " ";
        out += buf;
    }
    return out;
}

}  // namespace vlx::core
