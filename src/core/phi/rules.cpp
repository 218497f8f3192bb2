#include "core/phi/rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace vlx::core::phi {

const char* event_type(Rule rule) {
    switch (rule) {
        case Rule::Rate: return "phi_access_rate";
        case Rule::CrossPractice: return "phi_cross_practice";
        case Rule::UnusualHours: return "phi_unusual_hours";
        case Rule::Baseline: return "phi_baseline_deviation";
    }
    return "";
}

const char* severity(Rule rule) {
    return (rule == Rule::Rate || rule == Rule::CrossPractice) ? "high" : "medium";
}

std::optional<Rule> rule_from_event_type(const std::string& name) {
    for (Rule r : {Rule::Rate, Rule::CrossPractice, Rule::UnusualHours, Rule::Baseline})
        if (name == event_type(r)) return r;
    return std::nullopt;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && (a < 0)) --q;
    return q;
}

RateBucket RateBucket::decode(const std::string& bytes) {
    RateBucket b;
    constexpr std::size_t kEntry = 16 + 8;
    if (bytes.size() % kEntry != 0) return b;
    for (std::size_t off = 0; off < bytes.size(); off += kEntry) {
        Entry e;
        std::memcpy(e.patient.data(), bytes.data() + off, 16);
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(bytes[off + 16 + i]);
        e.last_seen = static_cast<std::int64_t>(v);
        b.entries_.push_back(e);
    }
    return b;
}

std::string RateBucket::encode() const {
    std::string out;
    out.reserve(entries_.size() * 24);
    for (const Entry& e : entries_) {
        out.append(reinterpret_cast<const char*>(e.patient.data()), 16);
        const auto v = static_cast<std::uint64_t>(e.last_seen);
        for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    return out;
}

void RateBucket::touch(const PatientId& patient, std::int64_t t, std::size_t cap) {
    for (Entry& e : entries_) {
        if (e.patient == patient) {
            e.last_seen = std::max(e.last_seen, t);
            return;
        }
    }
    entries_.push_back(Entry{patient, t});
    while (cap > 0 && entries_.size() > cap) {
        auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                       [](const Entry& a, const Entry& b) { return a.last_seen < b.last_seen; });
        entries_.erase(oldest);
    }
}

std::size_t distinct_in_window(const RateBucket* previous, const RateBucket& current, std::int64_t t,
                               std::int64_t window) {
    std::vector<PatientId> seen;
    auto add = [&](const RateBucket& b) {
        for (const auto& e : b.entries())
            if (e.last_seen > t - window && e.last_seen <= t &&
                std::find(seen.begin(), seen.end(), e.patient) == seen.end())
                seen.push_back(e.patient);
    };
    add(current);
    if (previous) add(*previous);
    return seen.size();
}

BaselineStats baseline(const std::vector<std::int64_t>& daily) { return baseline(daily.data(), daily.size()); }

BaselineStats baseline(const std::int64_t* daily, std::size_t n) {
    BaselineStats s;
    s.days = static_cast<int>(n);
    if (n == 0) return s;
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(daily[i]);
    s.mean = sum / s.days;
    double sq = 0;
    for (std::size_t i = 0; i < n; ++i)
        sq += (static_cast<double>(daily[i]) - s.mean) * (static_cast<double>(daily[i]) - s.mean);
    s.stddev = std::sqrt(sq / s.days);
    return s;
}

bool above_baseline(const BaselineStats& stats, std::int64_t today, double sigma, int min_days) {
    if (stats.days < min_days || stats.days == 0) return false;
    // Round the threshold to 1e-9 so a value computed in double and the view's numeric
    // agree on ties (e.g. mean 4, stddev 0, today 4 is not above).
    const double threshold = std::round(stats.threshold(sigma) * 1e9) / 1e9;
    return static_cast<double>(today) > threshold;
}

std::int64_t night_key(std::int64_t local_usec, int window_start_minute) {
    return floor_div(local_usec - static_cast<std::int64_t>(window_start_minute) * 60 * kUsecPerSec, kUsecPerDay);
}

bool extends(Rule rule, const OpenEvent& open, std::int64_t t, std::int64_t key, std::int64_t gap) {
    switch (rule) {
        case Rule::Rate:
        case Rule::CrossPractice: return t >= open.first_access - gap && t <= open.last_access + gap;
        case Rule::UnusualHours:
        case Rule::Baseline: return key == open.window_key;
    }
    return false;
}

void absorb(OpenEvent& open, std::int64_t t) {
    open.first_access = std::min(open.first_access, t);
    open.last_access = std::max(open.last_access, t);
    open.access_count += 1;
}

}  // namespace vlx::core::phi
