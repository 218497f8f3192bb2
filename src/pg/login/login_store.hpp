// The login path's reads and writes. Every function runs inside an open SPI connection.
//
// Concurrency: the write paths first take a transaction-scoped lock on the account
// (lock_account_key), so concurrent attempts on one account are serialised and each sees
// the attempts committed before it; exactly one of them crosses the threshold. The lock
// lives in the lock manager (no row is written for it) and is released at commit.
#pragma once

#include "core/login/lockout_policy.hpp"
#include "pg/postgres.hpp"

namespace vlx::pg::login {

// Argument n as the one spelling the rules compare: trimmed, lower-cased (ASCII by the
// core, any other letter by the database's lower(), as the CHECK constraints do).
std::string email_argument(FunctionCallInfo fcinfo, int n);

// The login policy from the current settings.
core::login::Policy current_policy();

// The extension's clock, as TimestampTz.
std::int64_t clock_now();

// Everything around an attempt that is not the account's own state.
struct Context {
    std::optional<Datum> user_id;  // uuid from security.accounts, when known
    bool is_admin = false;
    bool ip_blocked = false;
    bool app_offline = false;      // emergency lockdown
};

// What the rules need about one account and one source address.
struct Observation {
    Context context;
    core::login::AccountState account;        // counted_failures read from failed_login_attempts
    std::vector<std::string> recent_ip_emails;  // accounts of the address's latest failures in the window
};

// The latest failures of an address the ip_multi_account rule looks at (see README).
constexpr int kIpRuleScanLimit = 64;

// Transaction-scoped exclusive locks on an account / an address (lock manager only).
void lock_account_key(const std::string& email);
void lock_address_key(Datum ip);

// What a caller needs read: the account with its directory entry (success, admin
// actions), or also the address's latest failures (record_failed_login). check_login
// reads through login/direct_read.hpp instead.
enum class Read { Account, Failure };

// Reads the account's state, its counted failures and what `read` asks for, in one
// statement. Without an address (admin actions) the context's address facts stay false.
Observation observe(const std::string& email, std::optional<Datum> ip, std::int64_t now,
                    const core::login::Policy& policy, Read read);

// Writes the attempt row; returns its id.
std::int64_t insert_attempt(const std::string& email, Datum ip, const std::optional<std::string>& user_agent,
                            std::int64_t now, bool during_lockout);

// Saves the account's state. reset_after_id set = failures count afresh after that attempt
// id (and from `now`); lockout_id set = the lockout now in force.
void save_account(const std::string& email, const core::login::AccountState& state,
                  std::optional<std::int64_t> reset_after_id, std::optional<std::int64_t> lockout_id,
                  std::int64_t now);

// Whether the directory marks the account as an admin (opens its own SPI connection).
bool is_admin(const std::string& email);

// The newest attempt id of the account (0 when none): the reset point of a success/unlock.
std::int64_t last_attempt_id(const std::string& email);

// Whether an ip_multi_account event for this address was raised within the window.
bool ip_episode_open(Datum ip, std::int64_t now, const core::login::Policy& policy);

std::int64_t insert_brute_force_lockout(const std::string& email, const Context& ctx, Datum ip,
                                        std::int64_t lock_until, int attempt_count, std::int64_t now);
Datum start_session(const std::string& email, const Context& ctx, Datum ip,
                    const std::optional<std::string>& user_agent, std::int64_t now);

}  // namespace vlx::pg::login
