#include "core/text_rules.hpp"

#include <cctype>

namespace vlx::core {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

template <typename Valid>
std::optional<std::vector<std::string>> parse_list(std::string_view text, std::string* error, Valid valid,
                                                   const char* what) {
    std::vector<std::string> out;
    text = trim(text);
    if (text.empty()) return out;
    for (;;) {
        std::size_t comma = text.find(',');
        std::string_view item = trim(text.substr(0, comma));
        if (!valid(item)) {
            if (error) *error = "\"" + std::string(item) + "\" is not " + what;
            return std::nullopt;
        }
        out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

bool parse_hh_mm(std::string_view s, int* minutes) {
    s = trim(s);
    if (s.size() != 5 || s[2] != ':') return false;
    for (int i : {0, 1, 3, 4})
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    // 24:00 is allowed as an end of day.
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
    *minutes = h * 60 + m;
    return true;
}

}  // namespace

std::optional<std::vector<std::string>> parse_name_list(std::string_view text, std::string* error) {
    return parse_list(
        text, error,
        [](std::string_view item) {
            if (item.empty() || item.size() > 63 || !std::islower(static_cast<unsigned char>(item[0]))) return false;
            for (char c : item)
                if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                      c == '_'))
                    return false;
            return true;
        },
        "a lower-case name");
}

std::optional<std::vector<std::string>> parse_state_list(std::string_view text, std::string* error) {
    return parse_list(
        text, error,
        [](std::string_view item) {
            return item.size() == 2 && std::isupper(static_cast<unsigned char>(item[0])) &&
                   std::isupper(static_cast<unsigned char>(item[1]));
        },
        "a two-letter upper-case state code");
}

std::optional<HoursWindow> parse_hours_window(std::string_view text, std::string* error) {
    text = trim(text);
    if (text.empty()) {
        if (error) error->clear();
        return std::nullopt;
    }
    std::size_t dash = text.find('-');
    HoursWindow w;
    if (dash == std::string_view::npos || !parse_hh_mm(text.substr(0, dash), &w.start_minute) ||
        !parse_hh_mm(text.substr(dash + 1), &w.end_minute) || w.start_minute == 24 * 60) {
        if (error) *error = "expected HH:MM-HH:MM, such as 03:00-05:00";
        return std::nullopt;
    }
    if (w.start_minute == w.end_minute) {
        if (error) *error = "the window is empty: start equals end";
        return std::nullopt;
    }
    if (error) error->clear();
    return w;
}

std::optional<std::int64_t> parse_bounded_int64(std::string_view text, std::int64_t min, std::int64_t max,
                                                std::string* error) {
    text = trim(text);
    if (text.empty() || text.size() > 19) {
        if (error) *error = "expected a whole number";
        return std::nullopt;
    }
    // Nineteen decimal digits always fit an unsigned 64-bit accumulator.
    std::uint64_t acc = 0;
    for (char c : text) {
        if (!std::isdigit(static_cast<unsigned char>(c))) {
            if (error) *error = "expected a whole number";
            return std::nullopt;
        }
        acc = acc * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (acc > static_cast<std::uint64_t>(max) || static_cast<std::int64_t>(acc) < min) {
        if (error) *error = "must be between " + std::to_string(min) + " and " + std::to_string(max);
        return std::nullopt;
    }
    return static_cast<std::int64_t>(acc);
}

}  // namespace vlx::core
