#include "core/login/lockout_policy.hpp"

#include <algorithm>
#include <cmath>

namespace vlx::core::login {
namespace {

constexpr Micros kDay = 86400LL * 1000000LL;
constexpr Micros kMaxLockout = 365 * kDay;  // backoff never locks for more than a year

template <typename T>
void drop_before(std::vector<T>& times, Micros cutoff) {
    times.erase(times.begin(), std::find_if(times.begin(), times.end(), [&](Micros t) { return t > cutoff; }));
}

Micros backoff_duration(const Policy& policy, std::size_t repeats) {
    const long double scaled =
        static_cast<long double>(policy.duration) * std::pow(static_cast<long double>(policy.backoff), repeats);
    return scaled >= static_cast<long double>(kMaxLockout) ? kMaxLockout : static_cast<Micros>(scaled);
}

}  // namespace

int counted_in_window(const AccountState& state, Micros now, const Policy& policy) {
    const Micros cutoff = now - policy.window;
    return static_cast<int>(std::count_if(state.counted_failures.begin(), state.counted_failures.end(),
                                          [&](Micros t) { return t > cutoff; }));
}

FailureOutcome on_failure(const AccountState& state, Micros now, const Policy& policy) {
    FailureOutcome out;
    out.next = state;
    AccountState& next = out.next;

    if (state.locked_at(now)) {
        out.during_lockout = true;
        out.failed_attempts = counted_in_window(state, now, policy);
        out.captcha_required = out.failed_attempts >= policy.captcha_after;
        return out;
    }
    if (next.locked) {
        // The lockout ran out by itself: it no longer exists, and counting starts fresh at
        // its end (nothing before it counts; failures since then do).
        drop_before(next.counted_failures, *next.locked_until);
        next.locked = false;
        next.locked_until.reset();
    }

    drop_before(next.counted_failures, now - policy.window);
    next.counted_failures.push_back(now);
    // Only the newest `threshold` matter: reaching that many locks the account.
    if (next.counted_failures.size() > static_cast<std::size_t>(policy.threshold))
        next.counted_failures.erase(next.counted_failures.begin(),
                                    next.counted_failures.end() - policy.threshold);
    out.failed_attempts = static_cast<int>(next.counted_failures.size());
    out.captcha_required = out.failed_attempts >= policy.captcha_after;

    if (next.monitor_until && *next.monitor_until > now && !next.monitor_alerted) {
        out.post_unlock_alert = true;
        next.monitor_alerted = true;
    }

    if (out.failed_attempts >= policy.threshold) {
        drop_before(next.recent_lockouts, now - kDay);
        out.lock_now = true;
        out.lock_until = now + backoff_duration(policy, next.recent_lockouts.size());
        out.lock_attempt_count = out.failed_attempts;
        next.locked = true;
        next.locked_until = out.lock_until;
        next.recent_lockouts.push_back(now);
        next.counted_failures.clear();
    }
    return out;
}

AccountState on_success(const AccountState& state) {
    AccountState next = state;
    next.counted_failures.clear();
    return next;
}

AccountState on_admin_unlock(const AccountState& state, Micros now, const Policy& policy) {
    AccountState next = state;
    next.locked = false;
    next.locked_until.reset();
    next.counted_failures.clear();
    next.monitor_until = now + policy.monitor_after_unlock;
    next.monitor_alerted = false;
    return next;
}

AccountState on_admin_lock(const AccountState& state, std::optional<Micros> until) {
    AccountState next = state;
    next.locked = true;
    next.locked_until = until;
    next.counted_failures.clear();
    return next;
}

int distinct_accounts(std::vector<std::string> recent, const std::string& email) {
    recent.push_back(email);
    std::sort(recent.begin(), recent.end());
    return static_cast<int>(std::unique(recent.begin(), recent.end()) - recent.begin());
}

}  // namespace vlx::core::login
