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

// Reads context and (without locking) the account state in one statement.
struct Snapshot {
    Context context;
    core::login::AccountState account;
};
Snapshot read_snapshot(const std::string& email, Datum ip, std::int64_t now);

// Context only (for the write paths, which lock the state separately).
Context read_context(const std::string& email, Datum ip, std::int64_t now);

// Locks the account's state row (creating it when missing) and returns its latest version.
core::login::AccountState lock_account(const std::string& email);
void save_account(const std::string& email, const core::login::AccountState& state,
                  std::optional<std::int64_t> lockout_id, std::int64_t now);

// Writes of the login path.
std::int64_t insert_brute_force_lockout(const std::string& email, const Context& ctx, Datum ip,
                                        const core::login::FailureOutcome& outcome, std::int64_t now);
void insert_attempt(const std::string& email, Datum ip, const std::optional<std::string>& user_agent,
                    std::int64_t now, bool during_lockout);
Datum start_session(const std::string& email, const Context& ctx, Datum ip,
                    const std::optional<std::string>& user_agent, std::int64_t now);

core::login::IpState lock_ip(Datum ip);
void save_ip(Datum ip, const core::login::IpState& state, std::int64_t now);

}  // namespace vlx::pg::login
