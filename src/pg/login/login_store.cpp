#include "pg/login/login_store.hpp"

#include "core/settings_catalog.hpp"
#include "pg/datum.hpp"
#include "pg/login/protection_cache.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

namespace vlx::pg::login {

using core::Setting;
using core::login::AccountState;
using core::login::IpState;

core::login::Policy current_policy() {
    core::login::Policy p;
    p.threshold = settings::integer(Setting::LockoutThreshold);
    p.window = settings::interval_us(Setting::LockoutWindow);
    p.duration = settings::interval_us(Setting::LockoutDuration);
    p.captcha_after = settings::integer(Setting::CaptchaAfter);
    p.ip_account_threshold = settings::integer(Setting::IpAccountThreshold);
    p.backoff = settings::real(Setting::LockoutBackoff);
    p.monitor_after_unlock = settings::interval_us(Setting::UnlockMonitorDuration);
    return p;
}

std::int64_t clock_now() { return GetCurrentTransactionStartTimestamp() + settings::clock_offset_us(); }

namespace {

// Columns first_col.. of a login_state row as the core's AccountState.
AccountState account_from(const spi::Rows& rows, int first_col) {
    AccountState s;
    if (auto v = rows.get(0, first_col)) s.counted_failures = datum::to_timestamps(*v);
    if (auto v = rows.get(0, first_col + 1)) s.locked = DatumGetBool(*v);
    if (auto v = rows.get(0, first_col + 2)) s.locked_until = DatumGetTimestampTz(*v);
    if (auto v = rows.get(0, first_col + 3)) s.recent_lockouts = datum::to_timestamps(*v);
    if (auto v = rows.get(0, first_col + 4)) s.monitor_until = DatumGetTimestampTz(*v);
    if (auto v = rows.get(0, first_col + 5)) s.monitor_alerted = DatumGetBool(*v);
    return s;
}

#define VLX_STATE_COLUMNS "s.counted_failures, s.locked, s.locked_until, s.recent_lockouts, s.monitor_until, s.monitor_alerted"

// The account directory entry, through the unique index on lower(email).
#define VLX_ACCOUNT_COLUMNS                                                                   \
    "(SELECT a.user_id FROM security.accounts a WHERE pg_catalog.lower(a.email) = $1),"      \
    " coalesce((SELECT a.is_admin FROM security.accounts a WHERE pg_catalog.lower(a.email) = $1), false)"

// Locks the account's state row, creating it when missing, in one statement: ON CONFLICT
// DO UPDATE waits for a concurrent writer and returns the latest committed version, so a
// concurrent first failure can neither raise a unique violation nor be missed.
#define VLX_UPSERT_LOCK_ACCOUNT                                                                  \
    "WITH s AS (INSERT INTO security.login_state AS s (email) VALUES ($1)"                      \
    "           ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING s.*) "

void add_cached_context(Context& c, Datum ip, std::int64_t now) {
    c.ip_blocked = ip_blocked(ip, now);
    c.app_offline = app_offline();
}

}  // namespace

Snapshot read_snapshot(const std::string& email, Datum ip, std::int64_t now) {
    // The hot path: one primary-key lookup; blocks and lockdown come from the cache, the
    // directory only when a lockdown makes the admin flag matter.
    static spi::Statement state("SELECT " VLX_STATE_COLUMNS " FROM security.login_state s WHERE s.email = $1",
                                {TEXTOID});
    static spi::Statement admin(
        "SELECT coalesce((SELECT a.is_admin FROM security.accounts a WHERE pg_catalog.lower(a.email) = $1), false)",
        {TEXTOID});
    Snapshot snap;
    add_cached_context(snap.context, ip, now);
    spi::Args args(1);
    args.set(0, datum::make_text(email));
    spi::Rows rows = spi::execute(state, args, SPI_OK_SELECT);
    if (!rows.empty()) snap.account = account_from(rows, 1);
    if (snap.context.app_offline) snap.context.is_admin = DatumGetBool(*spi::execute(admin, args, SPI_OK_SELECT).get(0, 1));
    return snap;
}

Locked lock_account_with_context(const std::string& email, Datum ip, std::int64_t now) {
    static spi::Statement statement(VLX_UPSERT_LOCK_ACCOUNT "SELECT " VLX_ACCOUNT_COLUMNS ", " VLX_STATE_COLUMNS " FROM s",
                                    {TEXTOID});
    Locked locked;
    spi::Args args(1);
    args.set(0, datum::make_text(email));
    spi::Rows rows = spi::execute(statement, args, SPI_OK_SELECT);
    locked.context.user_id = rows.get(0, 1);
    locked.context.is_admin = DatumGetBool(*rows.get(0, 2));
    locked.account = account_from(rows, 3);
    add_cached_context(locked.context, ip, now);
    return locked;
}

AccountState lock_account(const std::string& email) {
    static spi::Statement statement(VLX_UPSERT_LOCK_ACCOUNT "SELECT " VLX_STATE_COLUMNS " FROM s", {TEXTOID});
    spi::Args args(1);
    args.set(0, datum::make_text(email));
    return account_from(spi::execute(statement, args, SPI_OK_SELECT), 1);
}

namespace {

void set_state_args(spi::Args& args, const std::string& email, const AccountState& state,
                    std::optional<std::int64_t> lockout_id, std::int64_t now) {
    args.set(0, datum::make_text(email));
    args.set(1, datum::timestamps(state.counted_failures));
    args.set(2, BoolGetDatum(state.locked));
    if (state.locked_until) args.set(3, TimestampTzGetDatum(*state.locked_until));
    args.set(4, datum::timestamps(state.recent_lockouts));
    if (state.monitor_until) args.set(5, TimestampTzGetDatum(*state.monitor_until));
    args.set(6, BoolGetDatum(state.monitor_alerted));
    if (lockout_id) args.set(7, Int64GetDatum(*lockout_id));
    args.set(8, TimestampTzGetDatum(now));
}

#define VLX_UPDATE_STATE                                                                  \
    "UPDATE security.login_state SET counted_failures = $2, locked = $3, locked_until = $4," \
    " recent_lockouts = $5, monitor_until = $6, monitor_alerted = $7,"                     \
    " lockout_id = CASE WHEN $3 THEN coalesce($8, lockout_id) END, updated_at = $9"         \
    " WHERE email = $1"

#define VLX_STATE_ARG_TYPES \
    TEXTOID, TIMESTAMPTZARRAYOID, BOOLOID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID, BOOLOID, INT8OID, TIMESTAMPTZOID

IpState ip_from(const spi::Rows& rows, int first_col) {
    IpState s;
    if (auto v = rows.get(0, first_col)) s.accounts = datum::to_strings(*v);
    if (auto v = rows.get(0, first_col + 1)) s.last_failure = datum::to_timestamps(*v);
    if (auto v = rows.get(0, first_col + 2)) s.alerted_until = DatumGetTimestampTz(*v);
    return s;
}

}  // namespace

void save_account(const std::string& email, const AccountState& state, std::optional<std::int64_t> lockout_id,
                  std::int64_t now) {
    static spi::Statement update(VLX_UPDATE_STATE, {VLX_STATE_ARG_TYPES});
    spi::Args args(9);
    set_state_args(args, email, state, lockout_id, now);
    spi::execute(update, args, SPI_OK_UPDATE);
}

IpState save_failure_and_lock_ip(const std::string& email, const AccountState& state,
                                 std::optional<std::int64_t> lockout_id, Datum ip,
                                 const std::optional<std::string>& user_agent, bool during_lockout,
                                 std::int64_t now) {
    // One statement for the three writes of every failure: the account's new state, the
    // attempt row, and the lock on the source address's state (taken after the account's,
    // always in that order). User agents are attacker-controlled: at most 512 characters.
    static spi::Statement statement(
        "WITH account AS (" VLX_UPDATE_STATE " RETURNING 1),"
        " attempt AS (INSERT INTO security.failed_login_attempts"
        "   (email, ip_address, user_agent, attempted_at, source, during_lockout)"
        "   VALUES ($1, $10, pg_catalog.left($11, 512), $9, 'app', $12) RETURNING 1)"
        " INSERT INTO security.ip_login_state AS s (ip_address) VALUES ($10)"
        " ON CONFLICT (ip_address) DO UPDATE SET ip_address = EXCLUDED.ip_address"
        " RETURNING s.accounts, s.last_failure, s.alerted_until",
        {VLX_STATE_ARG_TYPES, INETOID, TEXTOID, BOOLOID});
    spi::Args args(12);
    set_state_args(args, email, state, lockout_id, now);
    args.set(9, ip);
    if (user_agent) args.set(10, datum::make_text(*user_agent));
    args.set(11, BoolGetDatum(during_lockout));
    IpState s = ip_from(spi::execute(statement, args, SPI_OK_INSERT_RETURNING), 1);
    if (s.accounts.size() != s.last_failure.size()) s = IpState{};  // damaged row: judge the IP afresh
    return s;
}

std::int64_t insert_brute_force_lockout(const std::string& email, const Context& ctx, Datum ip,
                                        const core::login::FailureOutcome& outcome, std::int64_t now) {
    static spi::Statement insert(
        "INSERT INTO security.account_lockouts"
        " (email, user_id, lockout_reason, locked_at, locked_until, ip_address, attempt_count, locked_by, notes)"
        " VALUES ($1, $2, 'brute_force', $3, $4, $5, $6, 'vitaluxe_security', $7) RETURNING id",
        {TEXTOID, UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INETOID, INT4OID, TEXTOID});
    spi::Args args(7);
    args.set(0, datum::make_text(email));
    if (ctx.user_id) args.set(1, *ctx.user_id);
    args.set(2, TimestampTzGetDatum(now));
    args.set(3, TimestampTzGetDatum(outcome.lock_until));
    args.set(4, ip);
    args.set(5, Int32GetDatum(outcome.lock_attempt_count));
    args.set(6, datum::make_text("automatic: " + std::to_string(outcome.lock_attempt_count) +
                                 " failed logins within the lockout window"));
    spi::Rows rows = spi::execute(insert, args, SPI_OK_INSERT_RETURNING);
    return DatumGetInt64(*rows.get(0, 1));
}

Datum start_session(const std::string& email, const Context& ctx, Datum ip,
                    const std::optional<std::string>& user_agent, std::int64_t now) {
    static spi::Statement insert(
        "INSERT INTO security.active_sessions (user_id, email, ip_address, user_agent, started_at, last_activity)"
        " VALUES ($1, $2, $3, pg_catalog.left($4, 512), $5, $5) RETURNING session_id",
        {UUIDOID, TEXTOID, INETOID, TEXTOID, TIMESTAMPTZOID});
    spi::Args args(5);
    if (ctx.user_id) args.set(0, *ctx.user_id);
    args.set(1, datum::make_text(email));
    args.set(2, ip);
    if (user_agent) args.set(3, datum::make_text(*user_agent));
    args.set(4, TimestampTzGetDatum(now));
    spi::Rows rows = spi::execute(insert, args, SPI_OK_INSERT_RETURNING);
    // The uuid lives in SPI memory: copy it out before the connection ends.
    return call([&] {
        Datum value = *rows.get(0, 1);
        return SPI_datumTransfer(value, false, 16);
    });
}

void save_ip(Datum ip, const IpState& state, std::int64_t now) {
    static spi::Statement update(
        "UPDATE security.ip_login_state SET accounts = $2, last_failure = $3, alerted_until = $4, updated_at = $5"
        " WHERE ip_address = $1",
        {INETOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID});
    spi::Args args(5);
    args.set(0, ip);
    args.set(1, datum::strings(state.accounts));
    args.set(2, datum::timestamps(state.last_failure));
    if (state.alerted_until) args.set(3, TimestampTzGetDatum(*state.alerted_until));
    args.set(4, TimestampTzGetDatum(now));
    spi::execute(update, args, SPI_OK_UPDATE);
}

}  // namespace vlx::pg::login
