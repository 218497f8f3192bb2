// The shared-memory forms of the PHI rule state decide exactly as the table forms.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "core/phi/shared_state.hpp"

using namespace vlx::core::phi;

namespace {
PatientId patient(std::uint32_t n) {
    PatientId p{};
    for (int i = 0; i < 4; ++i) p[12 + i] = static_cast<std::uint8_t>(n >> (8 * (3 - i)));
    return p;
}
}  // namespace

TEST(RateSlots, DecidesLikeRateBucketUnderRandomTraffic) {
    std::mt19937 rng(7);
    constexpr std::int64_t kWindow = 600 * kUsecPerSec;
    for (std::size_t cap : {1u, 5u, 50u, 64u}) {
        RateBucket prev_b, cur_b;
        auto prev_s = std::make_unique<RateSlots>();
        auto cur_s = std::make_unique<RateSlots>();
        prev_s->reset(0);
        cur_s->reset(1);
        std::int64_t t = 1000 * kUsecPerSec;
        for (int i = 0; i < 5000; ++i) {
            t += static_cast<std::int64_t>(rng() % 3) * kUsecPerSec;  // ties on purpose
            const PatientId p = patient(rng() % 200);
            RateBucket& b = (i % 7 == 0) ? prev_b : cur_b;
            RateSlots& s = (i % 7 == 0) ? *prev_s : *cur_s;
            b.touch(p, t, cap);
            s.touch(p, t, cap);
            ASSERT_EQ(distinct_in_window(&prev_b, cur_b, t, kWindow), distinct_in_window(prev_s.get(), *cur_s, t, kWindow))
                << "cap " << cap << " step " << i;
            ASSERT_GE(in_window_upper_bound(prev_s.get(), *cur_s, t, kWindow),
                      distinct_in_window(prev_s.get(), *cur_s, t, kWindow));
        }
        ASSERT_EQ(cur_b.entries().size(), cur_s->count);
    }
}

// Back-filled and concurrent rows arrive out of time order: the ring must still evict the
// first oldest exactly as RateBucket does, and its bounds must hold every entry (the
// insert path trusts them to skip counting).
TEST(RateSlots, OutOfOrderTrafficKeepsDecisionsAndBounds) {
    std::mt19937 rng(11);
    constexpr std::int64_t kWindow = 600 * kUsecPerSec;
    for (std::size_t cap : {3u, 50u, 64u}) {
        RateBucket b;
        auto s = std::make_unique<RateSlots>();
        s->reset(0);
        std::int64_t t = 1000 * kUsecPerSec;
        for (int i = 0; i < 20000; ++i) {
            t += static_cast<std::int64_t>(rng() % 3) * kUsecPerSec;
            const std::int64_t at = t - static_cast<std::int64_t>(rng() % 4 == 0 ? rng() % 90 : 0) * kUsecPerSec;
            const PatientId p = patient(rng() % (i % 2 ? 60 : 5000));
            b.touch(p, at, cap);
            s->touch(p, at, cap);
            ASSERT_EQ(distinct_in_window(nullptr, b, t, kWindow), distinct_in_window(nullptr, *s, t, kWindow))
                << "cap " << cap << " step " << i;
            for (std::uint32_t k = 0; k < s->count; ++k) {
                ASSERT_LE(s->last_seen[s->at(k)], s->max_seen);
                ASSERT_GE(s->last_seen[s->at(k)], s->min_seen);
                if (s->ordered && k > 0) {
                    ASSERT_GE(s->last_seen[s->at(k)], s->last_seen[s->at(k - 1)]);
                }
            }
            if (s->count >= cap && s->max_seen <= t && s->min_seen > t - kWindow) {
                ASSERT_GE(distinct_in_window(nullptr, *s, t, kWindow), cap);
            }
        }
        ASSERT_EQ(b.entries().size(), s->count);
    }
}

TEST(RateSlots, CountsOnlyTheWindow) {
    auto cur = std::make_unique<RateSlots>();
    cur->reset(0);
    cur->touch(patient(1), 10, 50);
    cur->touch(patient(2), 20, 50);
    cur->touch(patient(1), 30, 50);  // same patient, later access
    EXPECT_EQ(distinct_in_window(nullptr, *cur, 30, 5), 1u);  // (25, 30]: patient 1 only
    EXPECT_EQ(distinct_in_window(nullptr, *cur, 30, 100), 2u);
}

TEST(DaySet, ExactBelowTheLimitWithDuplicates) {
    auto s = std::make_unique<DaySet>();
    s->clear();
    for (std::uint32_t n = 0; n < DaySet::kExactLimit; ++n) {
        EXPECT_TRUE(s->add(patient(n)));
        EXPECT_FALSE(s->add(patient(n)));  // the same patient again is not new
    }
    EXPECT_FALSE(s->sketched);
    EXPECT_EQ(s->estimate(), static_cast<std::int64_t>(DaySet::kExactLimit));
}

TEST(DaySet, SketchedEstimateWithinTwoPercent) {
    auto s = std::make_unique<DaySet>();
    s->clear();
    for (std::uint32_t n = 0; n < 5000; ++n) s->add(patient(n * 7919u + 3));
    EXPECT_TRUE(s->sketched);
    EXPECT_NEAR(static_cast<double>(s->estimate()), 5000.0, 100.0);
    const std::int64_t before = s->estimate();
    for (std::uint32_t n = 0; n < 5000; ++n) s->add(patient(n * 7919u + 3));  // repeats change nothing
    EXPECT_EQ(s->estimate(), before);
    // the running count of set bits is the bitmap's
    std::size_t ones = 0;
    for (std::uint32_t w : s->slots) ones += static_cast<std::size_t>(__builtin_popcount(w));
    EXPECT_EQ(ones, s->exact);
}

TEST(DaySet, FingerprintIsNeverZeroAndSpreads) {
    EXPECT_NE(patient_fingerprint(PatientId{}), 0u);
    EXPECT_NE(patient_fingerprint(patient(1)), patient_fingerprint(patient(2)));
}
