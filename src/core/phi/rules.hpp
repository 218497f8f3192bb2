// The four PHI access rules of SPEC §3 as pure decisions over small states, so the trigger
// (src/pg/phi) only loads state, calls these and writes state back.
//
//  * rate: distinct patients of one user in the sliding window (t - window, t]. The state
//    is kept per user per bucket (bucket = floor(t / window)): for each patient the latest
//    access inside that bucket, at most `cap` (= threshold) patients per bucket, evicting
//    the oldest. A window ending at t spans bucket(t) and bucket(t) - 1, so a judgement
//    reads two bounded states: O(threshold), independent of the log's size. Back-filled
//    rows land in their own (older) buckets and are judged there.
//  * baseline: mean + sigma x population stddev of distinct patients per day over the
//    days with access among the 30 before the row's day.
//  * de-dup: an access extends the user's open event for the rule when it falls in the
//    same window (sessionized for rate/cross-practice, the same night or day for
//    unusual hours and baseline).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vlx::core::phi {

using PatientId = std::array<std::uint8_t, 16>;

enum class Rule { Rate, CrossPractice, UnusualHours, Baseline };
const char* event_type(Rule rule);  // "phi_access_rate", ...
const char* severity(Rule rule);    // "high" | "medium"
std::optional<Rule> rule_from_event_type(const std::string& name);

inline constexpr std::int64_t kUsecPerSec = 1000000;
inline constexpr std::int64_t kUsecPerDay = 86400 * kUsecPerSec;

// floor(a / b) for b > 0, also for negative a.
std::int64_t floor_div(std::int64_t a, std::int64_t b);

class RateBucket {
public:
    struct Entry {
        PatientId patient;
        std::int64_t last_seen;
    };
    static RateBucket decode(const std::string& bytes);  // bad/empty input -> empty bucket
    std::string encode() const;
    // Records an access; keeps at most `cap` patients (the most recent ones).
    void touch(const PatientId& patient, std::int64_t t, std::size_t cap);
    const std::vector<Entry>& entries() const { return entries_; }

private:
    std::vector<Entry> entries_;
};

// Distinct patients accessed in (t - window, t] according to the two buckets.
std::size_t distinct_in_window(const RateBucket* previous, const RateBucket& current, std::int64_t t,
                               std::int64_t window);

struct BaselineStats {
    int days = 0;
    double mean = 0;
    double stddev = 0;  // population
    double threshold(double sigma) const { return mean + sigma * stddev; }
};
BaselineStats baseline(const std::vector<std::int64_t>& daily_distinct_patients);
// The same over n values (the hot path keeps them on the stack).
BaselineStats baseline(const std::int64_t* daily_distinct_patients, std::size_t n);
bool above_baseline(const BaselineStats& stats, std::int64_t today, double sigma, int min_days);

// Unusual hours: the night an access belongs to, so 03:10 and 04:50 of one night share a
// window. local_usec = the access as local wall-clock microseconds since 2000-01-01.
std::int64_t night_key(std::int64_t local_usec, int window_start_minute);
inline std::int64_t local_day(std::int64_t local_usec) { return floor_div(local_usec, kUsecPerDay); }
inline int minute_of_day(std::int64_t local_usec) {
    return static_cast<int>((local_usec - local_day(local_usec) * kUsecPerDay) / (60 * kUsecPerSec));
}

// The open event of a user for one rule, as the de-dup state table keeps it.
struct OpenEvent {
    std::int64_t event_id = 0;
    std::int64_t window_key = 0;
    std::int64_t first_access = 0;
    std::int64_t last_access = 0;
    std::int64_t access_count = 0;
};
// Does an access at t (window key `key`) belong to `open`? Rate and cross-practice:
// within `gap` of the event's accesses; unusual hours and baseline: the same key.
bool extends(Rule rule, const OpenEvent& open, std::int64_t t, std::int64_t key, std::int64_t gap);
void absorb(OpenEvent& open, std::int64_t t);

}  // namespace vlx::core::phi
