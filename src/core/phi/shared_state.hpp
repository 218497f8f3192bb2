// Fixed-size, pointer-free forms of the PHI rule state, so it can live in shared memory
// (src/pg/phi/shared_state.*): the rate buckets and the day's distinct patients of one
// user. Same decisions as RateBucket / the rollup tables of the table path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/phi/rules.hpp"

namespace vlx::core::phi {

// One rate bucket with room for kCapacity patients (the latest access of each). The
// rule keeps `cap` = phi_rate_threshold of them, so the shared path needs threshold <=
// kCapacity; larger thresholds use the table path.
struct RateSlots {
    static constexpr std::size_t kCapacity = 64;
    // Entries in insertion order are at (head + i) % kCapacity, i < count. Fingerprints and
    // times apart from the patient ids, so a scan touches 4 + 8 cache lines, not 32.
    std::int64_t bucket;
    std::uint32_t count;
    std::uint32_t head;
    std::int64_t max_seen;  // the latest last_seen held (INT64_MIN when empty)
    std::int64_t min_seen;  // at most the earliest last_seen held (evictions leave it low)
    bool ordered;           // last_seen never decreases in insertion order: the first is the oldest
    std::uint32_t fingerprint[kCapacity];  // patient_fingerprint(patient): compared first
    std::int64_t last_seen[kCapacity];
    PatientId patient[kCapacity];

    void reset(std::int64_t b);
    // RateBucket::touch exactly (the same patient keeps its latest access; over `cap`
    // the oldest goes, ties evicting the earlier entry).
    void touch(const PatientId& patient, std::int64_t t, std::size_t cap);
    // Ring position of the i-th entry in insertion order.
    std::size_t at(std::size_t i) const { return (head + i) % kCapacity; }
};

// Distinct patients in (t - window, t] over the current and previous bucket.
std::size_t distinct_in_window(const RateSlots* previous, const RateSlots& current, std::int64_t t,
                               std::int64_t window);
// An upper bound of distinct_in_window in O(n): when it is below the threshold, the
// exact count is not needed.
std::size_t in_window_upper_bound(const RateSlots* previous, const RateSlots& current, std::int64_t t,
                                  std::int64_t window);

// Distinct patients of one day: exact (32-bit fingerprints, open addressing) up to
// kExactLimit, then a linear-counting bitmap over the same 4 KiB (estimate within ~1% up
// to ~20 000 patients). The baseline rule only compares it with mean + 3 sigma.
struct DaySet {
    static constexpr std::size_t kSlots = 1024;
    static constexpr std::uint32_t kExactLimit = 768;
    static constexpr std::size_t kBits = kSlots * 32;
    std::uint32_t slots[kSlots];  // fingerprints (0 = empty) or, once sketched, the bitmap
    std::uint32_t exact;          // distinct fingerprints while exact, set bits once sketched
    bool sketched;

    void clear();
    // Adds a patient; true when it was not in the set yet (sketched: when its bit was clear).
    bool add(const PatientId& patient);
    std::int64_t estimate() const;
};

// A stable 32-bit fingerprint of a patient id (never 0).
std::uint32_t patient_fingerprint(const PatientId& patient);

}  // namespace vlx::core::phi
