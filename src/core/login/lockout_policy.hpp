// The brute-force rules of SPEC §1 as pure functions over a small per-account and per-IP
// state. The PostgreSQL layer loads the state row (locked), asks these functions what
// happens, and writes the answer back: the decision itself never touches a table, and its
// cost is bounded by the thresholds, never by how many attempts the log holds.
//
// Times are microseconds on one clock (the extension's: now() + clock_offset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vlx::core::login {

using Micros = std::int64_t;

struct Policy {
    int threshold = 5;             // failures within window that lock
    Micros window = 0;             // lockout_window
    Micros duration = 0;           // lockout_duration
    int captcha_after = 3;         // failures from which a CAPTCHA is required
    int ip_account_threshold = 3;  // distinct accounts from one IP that raise ip_multi_account
    double backoff = 1.0;          // duration multiplier per repeat lockout within 24 h
    Micros monitor_after_unlock = 0;
};

struct AccountState {
    std::vector<Micros> counted_failures;  // failures that count, oldest first, at most `threshold`
    bool locked = false;
    std::optional<Micros> locked_until;    // nullopt while locked = until an admin unlocks
    std::vector<Micros> recent_lockouts;   // starts of brute-force lockouts (for backoff)
    std::optional<Micros> monitor_until;   // set by an admin unlock
    bool monitor_alerted = false;          // post_unlock_failure raised already

    // Locked now? An expired lockout stops denying by itself.
    bool locked_at(Micros now) const { return locked && (!locked_until || *locked_until > now); }
};

struct FailureOutcome {
    AccountState next;
    bool during_lockout = false;       // recorded, but neither counted nor extending the lock
    bool lock_now = false;             // this failure crossed the threshold
    Micros lock_until = 0;
    int lock_attempt_count = 0;
    bool post_unlock_alert = false;    // first failure after an admin unlock
    int failed_attempts = 0;           // counted failures within the window
    bool captcha_required = false;
};

// What one more failed login at `now` does to the account.
FailureOutcome on_failure(const AccountState& state, Micros now, const Policy& policy);

// Counted failures still inside the window at `now` (what check_login reports).
int counted_in_window(const AccountState& state, Micros now, const Policy& policy);

// A successful login: counting starts afresh (the caller refuses it while locked).
AccountState on_success(const AccountState& state);

// An admin unlock: the lock ends, counting starts afresh, the account is watched.
AccountState on_admin_unlock(const AccountState& state, Micros now, const Policy& policy);

// An admin lock (reason other than brute_force); nullopt = until unlocked.
AccountState on_admin_lock(const AccountState& state, std::optional<Micros> until);

// The ip_multi_account rule: distinct accounts among an address's latest failures in the
// window (`recent`, as read) plus this one. The rule fires at ip_account_threshold.
int distinct_accounts(std::vector<std::string> recent, const std::string& email);

}  // namespace vlx::core::login
