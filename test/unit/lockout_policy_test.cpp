// SPEC §1's lockout semantics, including the ones implementations commonly get wrong.
#include "core/login/lockout_policy.hpp"

#include <gtest/gtest.h>

using namespace vlx::core::login;

namespace {

constexpr Micros kSec = 1000000;
constexpr Micros kMin = 60 * kSec;
constexpr Micros kT0 = 1000000 * kMin;  // any instant

Policy spec_policy() {
    Policy p;
    p.threshold = 5;
    p.window = 15 * kMin;
    p.duration = 30 * kMin;
    p.captcha_after = 3;
    p.ip_account_threshold = 3;
    p.backoff = 1.0;
    p.monitor_after_unlock = 24 * 60 * kMin;
    return p;
}

// n failures one second apart from `start`; returns the outcome of the last.
FailureOutcome fail_n(AccountState& s, int n, Micros start, const Policy& p) {
    FailureOutcome last;
    for (int i = 0; i < n; ++i) {
        last = on_failure(s, start + i * kSec, p);
        s = last.next;
    }
    return last;
}

}  // namespace

TEST(Lockout, FifthFailureWithinWindowLocksForThirtyMinutes) {
    const Policy p = spec_policy();
    AccountState s;
    auto fourth = fail_n(s, 4, kT0, p);
    EXPECT_FALSE(fourth.lock_now);
    EXPECT_EQ(fourth.failed_attempts, 4);
    auto fifth = on_failure(s, kT0 + 10 * kSec, p);
    EXPECT_TRUE(fifth.lock_now);
    EXPECT_EQ(fifth.lock_attempt_count, 5);
    EXPECT_EQ(fifth.lock_until, kT0 + 10 * kSec + 30 * kMin);
    EXPECT_TRUE(fifth.next.locked_at(kT0 + 10 * kSec));
}

TEST(Lockout, CaptchaFromThirdFailure) {
    const Policy p = spec_policy();
    AccountState s;
    EXPECT_FALSE(fail_n(s, 2, kT0, p).captcha_required);
    EXPECT_TRUE(fail_n(s, 1, kT0 + 5 * kSec, p).captcha_required);
}

TEST(Lockout, FailuresOutsideTheWindowDoNotCount) {
    const Policy p = spec_policy();
    AccountState s;
    fail_n(s, 4, kT0, p);
    auto late = on_failure(s, kT0 + 16 * kMin, p);
    EXPECT_FALSE(late.lock_now);
    EXPECT_EQ(late.failed_attempts, 1);
}

TEST(Lockout, SlidingWindowCountsTheLastFifteenMinutes) {
    const Policy p = spec_policy();
    AccountState s;
    fail_n(s, 2, kT0, p);                           // t0, t0+1s
    fail_n(s, 2, kT0 + 10 * kMin, p);               // t0+10m
    auto out = on_failure(s, kT0 + 15 * kMin + 2 * kSec, p);  // the first two have left
    EXPECT_EQ(out.failed_attempts, 3);
    EXPECT_FALSE(out.lock_now);
}

TEST(Lockout, SuccessfulLoginResetsTheCount) {
    const Policy p = spec_policy();
    AccountState s;
    fail_n(s, 4, kT0, p);
    s = on_success(s);
    auto out = on_failure(s, kT0 + 10 * kSec, p);
    EXPECT_EQ(out.failed_attempts, 1);
    EXPECT_FALSE(out.lock_now);
}

TEST(Lockout, FailuresDuringALockoutAreNeitherCountedNorExtending) {
    const Policy p = spec_policy();
    AccountState s;
    auto lock = fail_n(s, 5, kT0, p);
    ASSERT_TRUE(lock.lock_now);
    for (int i = 0; i < 20; ++i) {
        auto during = on_failure(s, kT0 + (i + 1) * kMin, p);
        EXPECT_TRUE(during.during_lockout);
        EXPECT_FALSE(during.lock_now);
        EXPECT_EQ(during.next.locked_until, lock.lock_until) << "never extended";
        s = during.next;
    }
    // After expiry counting starts fresh: one failure is one, not 21.
    auto after = on_failure(s, lock.lock_until + kSec, p);
    EXPECT_FALSE(after.during_lockout);
    EXPECT_EQ(after.failed_attempts, 1);
    EXPECT_FALSE(after.next.locked);
}

TEST(Lockout, AfterExpiryFailuresSinceTheEndCount) {
    // The state row may still say "locked" after the end (nothing is written at expiry);
    // failures made after the end are counted, the older ones are not.
    const Policy p = spec_policy();
    AccountState s;
    auto lock = fail_n(s, 5, kT0, p);
    AccountState after = s;
    after.counted_failures = {kT0 + kSec, lock.lock_until + kSec, lock.lock_until + 2 * kSec};
    auto out = on_failure(after, lock.lock_until + 3 * kSec, p);
    EXPECT_EQ(out.failed_attempts, 3) << "two since the end, plus this one";
    EXPECT_FALSE(out.next.locked);
}

TEST(Lockout, ExpiredLockoutStopsDenyingByItself) {
    const Policy p = spec_policy();
    AccountState s;
    auto lock = fail_n(s, 5, kT0, p);
    EXPECT_TRUE(s.locked_at(lock.lock_until - 1));
    EXPECT_FALSE(s.locked_at(lock.lock_until));
}

TEST(Lockout, AdminUnlockStartsTheCountAfreshAndWatchesTheAccount) {
    const Policy p = spec_policy();
    AccountState s;
    fail_n(s, 5, kT0, p);
    s = on_admin_unlock(s, kT0 + kMin, p);
    EXPECT_FALSE(s.locked_at(kT0 + kMin));
    auto first = on_failure(s, kT0 + 2 * kMin, p);
    EXPECT_EQ(first.failed_attempts, 1);
    EXPECT_TRUE(first.post_unlock_alert) << "first failure after unlock raises post_unlock_failure";
    auto second = on_failure(first.next, kT0 + 3 * kMin, p);
    EXPECT_FALSE(second.post_unlock_alert) << "only the first";
    auto outside = on_admin_unlock(second.next, kT0, p);
    auto much_later = on_failure(outside, kT0 + 25 * 60 * kMin, p);
    EXPECT_FALSE(much_later.post_unlock_alert) << "monitoring ends";
}

TEST(Lockout, ManualLockWithoutEndHoldsUntilUnlocked) {
    const Policy p = spec_policy();
    AccountState s = on_admin_lock(AccountState{}, std::nullopt);
    EXPECT_TRUE(s.locked_at(kT0 + 1000 * 24 * 60 * kMin));
    auto during = on_failure(s, kT0, p);
    EXPECT_TRUE(during.during_lockout);
}

TEST(Lockout, ProgressiveBackoffMultipliesRepeatLockoutsWithin24h) {
    Policy p = spec_policy();
    p.backoff = 2.0;
    AccountState s;
    auto first = fail_n(s, 5, kT0, p);
    EXPECT_EQ(first.lock_until - (kT0 + 4 * kSec), 30 * kMin);
    auto second = fail_n(s, 5, first.lock_until + kSec, p);
    EXPECT_EQ(second.lock_until - (first.lock_until + 5 * kSec), 60 * kMin);
    auto third = fail_n(s, 5, second.lock_until + kSec, p);
    EXPECT_EQ(third.lock_until - (second.lock_until + 5 * kSec), 120 * kMin);
    // A lockout more than 24 h after the others is a first one again.
    AccountState fresh = s;
    auto later = fail_n(fresh, 5, third.lock_until + 25 * 60 * kMin, p);
    EXPECT_EQ(later.lock_until - (third.lock_until + 25 * 60 * kMin + 4 * kSec), 30 * kMin);
}

TEST(Lockout, BackoffOffByDefault) {
    const Policy p = spec_policy();
    AccountState s;
    auto first = fail_n(s, 5, kT0, p);
    auto second = fail_n(s, 5, first.lock_until + kSec, p);
    EXPECT_EQ(second.lock_until - (first.lock_until + 5 * kSec), 30 * kMin);
}

TEST(Lockout, StateStaysBoundedUnderAnyNumberOfFailures) {
    const Policy p = spec_policy();
    AccountState s;
    for (int i = 0; i < 100000; ++i) s = on_failure(s, kT0 + i * kSec, p).next;
    EXPECT_LE(s.counted_failures.size(), 5u);
    EXPECT_LE(s.recent_lockouts.size(), 1000u);
}

TEST(IpRule, CountsDistinctAccountsIncludingThisOne) {
    EXPECT_EQ(distinct_accounts({}, "a@x"), 1);
    EXPECT_EQ(distinct_accounts({"a@x", "a@x", "a@x"}, "a@x"), 1) << "hammering one account is one";
    EXPECT_EQ(distinct_accounts({"a@x", "b@x"}, "a@x"), 2);
    EXPECT_EQ(distinct_accounts({"a@x", "b@x", "a@x"}, "c@x"), 3);
}
