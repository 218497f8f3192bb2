#include "pg/login/login_store.hpp"

#include "core/settings_catalog.hpp"
#include "pg/datum.hpp"
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

// Columns 1..7 of login_state as the core's AccountState.
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

// The facts around an attempt, as scalar subqueries over indexed lookups. The account
// lookup goes through the unique index on lower(email).
#define VLX_CONTEXT_COLUMNS                                                                          \
    "(SELECT a.user_id FROM security.accounts a WHERE pg_catalog.lower(a.email) = $1),"            \
    " coalesce((SELECT a.is_admin FROM security.accounts a WHERE pg_catalog.lower(a.email) = $1), false)," \
    " EXISTS (SELECT 1 FROM security.blocked_ips b WHERE b.network OPERATOR(pg_catalog.>>=) $2"      \
    "         AND b.unblocked_at IS NULL AND (b.blocked_until IS NULL OR b.blocked_until > $3)),"    \
    " coalesce((SELECT st.app_offline FROM security.system_state st), false)"

Context context_from(const spi::Rows& rows) {
    Context c;
    c.user_id = rows.get(0, 1);
    c.is_admin = DatumGetBool(*rows.get(0, 2));
    c.ip_blocked = DatumGetBool(*rows.get(0, 3));
    c.app_offline = DatumGetBool(*rows.get(0, 4));
    return c;
}

spi::Args context_args(const std::string& email, Datum ip, std::int64_t now) {
    spi::Args args(3);
    args.set(0, datum::make_text(email)).set(1, ip).set(2, TimestampTzGetDatum(now));
    return args;
}

}  // namespace

Snapshot read_snapshot(const std::string& email, Datum ip, std::int64_t now) {
    static spi::Statement statement("SELECT " VLX_CONTEXT_COLUMNS ", " VLX_STATE_COLUMNS
                                    " FROM (SELECT) AS one LEFT JOIN security.login_state s ON s.email = $1",
                                    {TEXTOID, INETOID, TIMESTAMPTZOID});
    spi::Args args = context_args(email, ip, now);
    spi::Rows rows = spi::execute(statement, args, SPI_OK_SELECT);
    return Snapshot{context_from(rows), account_from(rows, 5)};
}

Context read_context(const std::string& email, Datum ip, std::int64_t now) {
    static spi::Statement statement("SELECT " VLX_CONTEXT_COLUMNS, {TEXTOID, INETOID, TIMESTAMPTZOID});
    spi::Args args = context_args(email, ip, now);
    return context_from(spi::execute(statement, args, SPI_OK_SELECT));
}

AccountState lock_account(const std::string& email) {
    static spi::Statement select_for_update(
        "SELECT " VLX_STATE_COLUMNS " FROM security.login_state s WHERE s.email = $1 FOR UPDATE", {TEXTOID});
    static spi::Statement insert_missing(
        "INSERT INTO security.login_state (email) VALUES ($1) ON CONFLICT (email) DO NOTHING", {TEXTOID});
    spi::Args args(1);
    args.set(0, datum::make_text(email));
    spi::Rows rows = spi::execute(select_for_update, args, SPI_OK_SELECT);
    if (rows.empty()) {
        // First failure for this address. A concurrent first failure makes ON CONFLICT wait
        // for it and then do nothing; either way the row exists for the second SELECT.
        spi::execute(insert_missing, args, SPI_OK_INSERT);
        rows = spi::execute(select_for_update, args, SPI_OK_SELECT);
    }
    return account_from(rows, 1);
}

void save_account(const std::string& email, const AccountState& state, std::optional<std::int64_t> lockout_id,
                  std::int64_t now) {
    static spi::Statement update(
        "UPDATE security.login_state SET counted_failures = $2, locked = $3, locked_until = $4,"
        " recent_lockouts = $5, monitor_until = $6, monitor_alerted = $7,"
        " lockout_id = CASE WHEN $3 THEN coalesce($8, lockout_id) END, updated_at = $9"
        " WHERE email = $1",
        {TEXTOID, TIMESTAMPTZARRAYOID, BOOLOID, TIMESTAMPTZOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID, BOOLOID, INT8OID,
         TIMESTAMPTZOID});
    spi::Args args(9);
    args.set(0, datum::make_text(email));
    args.set(1, datum::timestamps(state.counted_failures));
    args.set(2, BoolGetDatum(state.locked));
    if (state.locked_until) args.set(3, TimestampTzGetDatum(*state.locked_until));
    args.set(4, datum::timestamps(state.recent_lockouts));
    if (state.monitor_until) args.set(5, TimestampTzGetDatum(*state.monitor_until));
    args.set(6, BoolGetDatum(state.monitor_alerted));
    if (lockout_id) args.set(7, Int64GetDatum(*lockout_id));
    args.set(8, TimestampTzGetDatum(now));
    spi::execute(update, args, SPI_OK_UPDATE);
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

void insert_attempt(const std::string& email, Datum ip, const std::optional<std::string>& user_agent,
                    std::int64_t now, bool during_lockout) {
    // User agents are attacker-controlled: kept, but at most 512 characters.
    static spi::Statement insert(
        "INSERT INTO security.failed_login_attempts (email, ip_address, user_agent, attempted_at, source, during_lockout)"
        " VALUES ($1, $2, pg_catalog.left($3, 512), $4, 'app', $5)",
        {TEXTOID, INETOID, TEXTOID, TIMESTAMPTZOID, BOOLOID});
    spi::Args args(5);
    args.set(0, datum::make_text(email));
    args.set(1, ip);
    if (user_agent) args.set(2, datum::make_text(*user_agent));
    args.set(3, TimestampTzGetDatum(now));
    args.set(4, BoolGetDatum(during_lockout));
    spi::execute(insert, args, SPI_OK_INSERT);
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

IpState lock_ip(Datum ip) {
    static spi::Statement select_for_update(
        "SELECT s.accounts, s.last_failure, s.alerted_until FROM security.ip_login_state s"
        " WHERE s.ip_address = $1 FOR UPDATE",
        {INETOID});
    static spi::Statement insert_missing(
        "INSERT INTO security.ip_login_state (ip_address) VALUES ($1) ON CONFLICT (ip_address) DO NOTHING",
        {INETOID});
    spi::Args args(1);
    args.set(0, ip);
    spi::Rows rows = spi::execute(select_for_update, args, SPI_OK_SELECT);
    if (rows.empty()) {
        spi::execute(insert_missing, args, SPI_OK_INSERT);
        rows = spi::execute(select_for_update, args, SPI_OK_SELECT);
    }
    IpState s;
    if (auto v = rows.get(0, 1)) s.accounts = datum::to_strings(*v);
    if (auto v = rows.get(0, 2)) s.last_failure = datum::to_timestamps(*v);
    if (auto v = rows.get(0, 3)) s.alerted_until = DatumGetTimestampTz(*v);
    if (s.accounts.size() != s.last_failure.size()) {
        // Hand-edited or damaged row: start the IP afresh rather than misjudge it.
        s.accounts.clear();
        s.last_failure.clear();
    }
    return s;
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
