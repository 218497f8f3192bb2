#include "core/phi/shared_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace vlx::core::phi {

void RateSlots::reset(std::int64_t b) {
    bucket = b;
    count = 0;
    head = 0;
    max_seen = std::numeric_limits<std::int64_t>::min();
    min_seen = std::numeric_limits<std::int64_t>::max();
    ordered = true;
}

void RateSlots::touch(const PatientId& p, std::int64_t t, std::size_t cap) {
    const std::uint32_t fp = patient_fingerprint(p);
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::size_t k = at(i);
        if (fingerprint[k] == fp && patient[k] == p) {
            if (t > last_seen[k]) {
                last_seen[k] = t;
                if (i + 1 < count && last_seen[at(i + 1)] < t) ordered = false;
                max_seen = std::max(max_seen, t);
            }
            return;
        }
    }
    if (cap == 0 || cap > kCapacity) cap = kCapacity;
    if (count >= cap) {
        // Full: as RateBucket, append then drop the first oldest (the new entry only when
        // it is strictly older than every kept one). Kept in order, the oldest is the first.
        std::uint32_t oldest = 0;
        if (!ordered)
            for (std::uint32_t i = 1; i < count; ++i)
                if (last_seen[at(i)] < last_seen[at(oldest)]) oldest = i;
        if (last_seen[at(oldest)] > t) return;
        if (oldest == 0) {
            head = static_cast<std::uint32_t>(at(1));
        } else {
            for (std::uint32_t i = oldest; i + 1 < count; ++i) {
                const std::size_t to = at(i), from = at(i + 1);
                fingerprint[to] = fingerprint[from];
                last_seen[to] = last_seen[from];
                patient[to] = patient[from];
            }
        }
        --count;
        if (!ordered) {  // the scan above was paid for: see whether order came back
            ordered = true;
            for (std::uint32_t i = 1; i < count && ordered; ++i)
                if (last_seen[at(i)] < last_seen[at(i - 1)]) ordered = false;
        }
    }
    if (count > 0 && last_seen[at(count - 1)] > t) ordered = false;
    const std::size_t k = at(count);
    fingerprint[k] = fp;
    last_seen[k] = t;
    patient[k] = p;
    ++count;
    max_seen = std::max(max_seen, t);
    min_seen = std::min(min_seen, t);
}

std::size_t in_window_upper_bound(const RateSlots* previous, const RateSlots& current, std::int64_t t,
                                  std::int64_t window) {
    std::size_t n = 0;
    auto add = [&](const RateSlots& b) {
        for (std::uint32_t i = 0; i < b.count; ++i) {
            const std::int64_t seen = b.last_seen[b.at(i)];
            if (seen > t - window && seen <= t) ++n;
        }
    };
    add(current);
    if (previous) add(*previous);
    return n;
}

std::size_t distinct_in_window(const RateSlots* previous, const RateSlots& current, std::int64_t t,
                               std::int64_t window) {
    // Each bucket holds a patient once: the count is the current bucket's patients in the
    // window plus the previous bucket's that the current one does not hold in the window,
    // found through a small open-addressing table (O(n), no allocation).
    constexpr std::size_t kTable = 4 * RateSlots::kCapacity;  // power of two, load <= 1/4
    std::uint16_t table[kTable] = {};                           // ring position + 1
    auto in_window = [&](std::int64_t seen) { return seen > t - window && seen <= t; };
    std::size_t n = 0;
    for (std::uint32_t i = 0; i < current.count; ++i) {
        const std::size_t k = current.at(i);
        if (!in_window(current.last_seen[k])) continue;
        ++n;
        std::size_t h = current.fingerprint[k] & (kTable - 1);
        while (table[h] != 0) h = (h + 1) & (kTable - 1);
        table[h] = static_cast<std::uint16_t>(k + 1);
    }
    if (!previous) return n;
    for (std::uint32_t i = 0; i < previous->count; ++i) {
        const std::size_t k = previous->at(i);
        if (!in_window(previous->last_seen[k])) continue;
        const std::uint32_t fp = previous->fingerprint[k];
        std::size_t h = fp & (kTable - 1);
        bool seen = false;
        while (table[h] != 0) {
            const std::size_t c = table[h] - 1u;
            if (current.fingerprint[c] == fp && current.patient[c] == previous->patient[k]) {
                seen = true;
                break;
            }
            h = (h + 1) & (kTable - 1);
        }
        if (!seen) ++n;
    }
    return n;
}

std::uint32_t patient_fingerprint(const PatientId& patient) {
    // FNV-1a over the 16 bytes, then a final avalanche (murmur3 fmix32).
    std::uint32_t h = 2166136261u;
    for (std::uint8_t b : patient) h = (h ^ b) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h == 0 ? 1 : h;
}

void DaySet::clear() {
    std::memset(slots, 0, sizeof slots);
    exact = 0;
    sketched = false;
}

namespace {
bool set_bit(std::uint32_t* bits, std::uint32_t fp) {
    const std::uint32_t bit = fp % DaySet::kBits;
    const std::uint32_t mask = 1u << (bit % 32);
    const bool was_clear = (bits[bit / 32] & mask) == 0;
    bits[bit / 32] |= mask;
    return was_clear;
}
}  // namespace

bool DaySet::add(const PatientId& patient) {
    const std::uint32_t fp = patient_fingerprint(patient);
    if (sketched) {
        if (!set_bit(slots, fp)) return false;
        ++exact;  // the set bits, so estimate() needs no scan
        return true;
    }
    std::size_t i = fp % kSlots;
    while (slots[i] != 0) {
        if (slots[i] == fp) return false;
        i = (i + 1) % kSlots;
    }
    slots[i] = fp;
    if (++exact <= kExactLimit) return true;
    // Past the exact limit: turn the slots into the bitmap of every fingerprint.
    std::vector<std::uint32_t> fps;
    fps.reserve(exact);
    for (std::uint32_t s : slots)
        if (s != 0) fps.push_back(s);
    std::memset(slots, 0, sizeof slots);
    exact = 0;
    for (std::uint32_t f : fps)
        if (set_bit(slots, f)) ++exact;
    sketched = true;
    return true;
}

std::int64_t DaySet::estimate() const {
    if (!sketched) return exact;
    const std::size_t zeros = kBits - exact;
    const double m = static_cast<double>(kBits);
    if (zeros == 0) return static_cast<std::int64_t>(m * std::log(m));
    return static_cast<std::int64_t>(std::llround(-m * std::log(static_cast<double>(zeros) / m)));
}

}  // namespace vlx::core::phi
