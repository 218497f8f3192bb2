// Loading and saving the per-account and per-IP login state (security.login_state,
// security.ip_login_state) and the facts a verdict needs. Every function runs inside an
// open SPI connection. Locking order is always account row, then IP row.
#pragma once

#include "core/login/lockout_policy.hpp"
#include "pg/postgres.hpp"

namespace vlx::pg::login {

// The login policy from the current settings.
core::login::Policy current_policy();

// The extension's clock, as TimestampTz.
std::int64_t clock_now();

// Everything around an attempt that is not the account's counters.
struct Context {
    std::optional<Datum> user_id;  // uuid from security.accounts, when known
    bool is_admin = false;
    bool ip_blocked = false;
    bool app_offline = false;      // emergency lockdown
};

// check_login's read: the account state (not locked) and the context.
struct Snapshot {
    Context context;
    core::login::AccountState account;
};
Snapshot read_snapshot(const std::string& email, Datum ip, std::int64_t now);

// The write paths' first step: the account's state row locked (created when missing) and
// the context, in one statement.
struct Locked {
    Context context;
    core::login::AccountState account;
};
Locked lock_account_with_context(const std::string& email, Datum ip, std::int64_t now);

// Locks the account's state row (creating it when missing) and returns its latest version.
core::login::AccountState lock_account(const std::string& email);
void save_account(const std::string& email, const core::login::AccountState& state,
                  std::optional<std::int64_t> lockout_id, std::int64_t now);

// Writes of the login path.
std::int64_t insert_brute_force_lockout(const std::string& email, const Context& ctx, Datum ip,
                                        const core::login::FailureOutcome& outcome, std::int64_t now);
// A failure's writes in one statement: the account's new state, the attempt row, and
// the source address's state row locked (created when missing); returns that IP state.
core::login::IpState save_failure_and_lock_ip(const std::string& email, const core::login::AccountState& state,
                                              std::optional<std::int64_t> lockout_id, Datum ip,
                                              const std::optional<std::string>& user_agent, bool during_lockout,
                                              std::int64_t now);
Datum start_session(const std::string& email, const Context& ctx, Datum ip,
                    const std::optional<std::string>& user_agent, std::int64_t now);

void save_ip(Datum ip, const core::login::IpState& state, std::int64_t now);

}  // namespace vlx::pg::login
