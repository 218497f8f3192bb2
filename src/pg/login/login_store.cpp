#include "pg/login/login_store.hpp"

#include "core/login/email.hpp"
#include "core/settings_catalog.hpp"
#include "pg/datum.hpp"
#include "pg/login/protection_cache.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "common/hashfn.h"
#include "catalog/pg_collation.h"
#include "storage/lock.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::login {

using core::Setting;
using core::login::AccountState;

std::string email_argument(FunctionCallInfo fcinfo, int n) {
    std::string email = core::login::normalize_email(datum::require_text(fcinfo, n, "email"));
    if (!core::login::has_non_ascii(email)) return email;
    return call([&] {
        Datum folded = DirectFunctionCall1Coll(lower, DEFAULT_COLLATION_OID,
                                               PointerGetDatum(cstring_to_text_with_len(email.data(),
                                                                                        static_cast<int>(email.size()))));
        text* t = DatumGetTextPP(folded);
        return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    });
}

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

// Lock classes of our own in the advisory lock space (field4), apart from the 1 and 2 that
// pg_advisory_lock uses, so an application's advisory locks never collide with ours.
constexpr uint16 kAccountLockClass = 0x5641;  // "VA"
constexpr uint16 kAddressLockClass = 0x5649;  // "VI"

void lock_key(const void* bytes, std::size_t size, uint16 lock_class) {
    call([&] {
        const uint64 h = hash_bytes_extended(static_cast<const unsigned char*>(bytes), static_cast<int>(size), 0x766c78);
        LOCKTAG tag;
        SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(h >> 32), static_cast<uint32>(h), lock_class);
        (void) LockAcquire(&tag, ExclusiveLock, false, false);
    });
}

void add_cached_context(Context& c, Datum ip, std::int64_t now) {
    c.ip_blocked = ip_blocked(ip, now);
    c.app_offline = app_offline();
}

}  // namespace

void lock_account_key(const std::string& email) { lock_key(email.data(), email.size(), kAccountLockClass); }

void lock_address_key(Datum ip) {
    const std::string text = datum::inet_text(ip);
    lock_key(text.data(), text.size(), kAddressLockClass);
}

Observation observe(const std::string& email, std::optional<Datum> ip, std::int64_t now,
                    const core::login::Policy& policy, Read read) {
    const bool with_ip = read == Read::Failure && ip.has_value();
    // One statement: the account's state row, the failures that count (newest first: after
    // the last reset and lockout, inside the window; the index on (email, attempted_at)
    // bounds the scan to them), the directory entry, and the address's latest failures.
    static spi::Statement statement(
        "SELECT s.locked, s.locked_until, s.recent_lockouts, s.monitor_until, s.monitor_alerted,"
        " ARRAY(SELECT a.attempted_at FROM security.failed_login_attempts a"
        "        WHERE a.email = $1"
        "          AND a.attempted_at >= GREATEST($2 - $3, s.counting_since,"
        "                                         CASE WHEN s.locked AND s.locked_until <= $2 THEN s.locked_until END)"
        "          AND a.attempted_at > $2 - $3"
        "          AND a.id > coalesce(s.reset_after_id, 0) AND NOT a.during_lockout"
        "        ORDER BY a.attempted_at DESC LIMIT $4),"
        " (SELECT u.user_id FROM security.accounts u WHERE pg_catalog.lower(u.email) = $1),"
        " coalesce((SELECT u.is_admin FROM security.accounts u WHERE pg_catalog.lower(u.email) = $1), false),"
        " CASE WHEN $6 THEN ARRAY(SELECT b.email FROM security.failed_login_attempts b"
        "        WHERE b.ip_address = $5 AND b.attempted_at > $2 - $3"
        "        ORDER BY b.attempted_at DESC LIMIT $7) END"
        " FROM (SELECT) AS one LEFT JOIN security.login_state s ON s.email = $1",
        {TEXTOID, TIMESTAMPTZOID, INTERVALOID, INT4OID, INETOID, BOOLOID, INT4OID});
    spi::Args args(7);
    args.set(0, datum::make_text(email)).set(1, TimestampTzGetDatum(now)).set(2, datum::interval(policy.window));
    args.set(3, Int32GetDatum(policy.threshold)).set(5, BoolGetDatum(with_ip)).set(6, Int32GetDatum(kIpRuleScanLimit));
    if (ip) args.set(4, *ip);
    spi::Rows rows = spi::execute(statement, args, SPI_OK_SELECT);

    Observation o;
    AccountState& s = o.account;
    if (auto v = rows.get(0, 1)) s.locked = DatumGetBool(*v);
    if (auto v = rows.get(0, 2)) s.locked_until = DatumGetTimestampTz(*v);
    if (auto v = rows.get(0, 3)) s.recent_lockouts = datum::to_timestamps(*v);
    if (auto v = rows.get(0, 4)) s.monitor_until = DatumGetTimestampTz(*v);
    if (auto v = rows.get(0, 5)) s.monitor_alerted = DatumGetBool(*v);
    if (auto v = rows.get(0, 6)) {
        s.counted_failures = datum::to_timestamps(*v);
        std::reverse(s.counted_failures.begin(), s.counted_failures.end());  // the core wants oldest first
    }
    o.context.user_id = rows.get(0, 7);
    o.context.is_admin = DatumGetBool(*rows.get(0, 8));
    if (auto v = rows.get(0, 9)) o.recent_ip_emails = datum::to_strings(*v);
    if (ip) add_cached_context(o.context, *ip, now);
    return o;
}

std::int64_t insert_attempt(const std::string& email, Datum ip, const std::optional<std::string>& user_agent,
                            std::int64_t now, bool during_lockout) {
    // User agents are attacker-controlled: kept, but at most 512 characters.
    static spi::Statement insert(
        "INSERT INTO security.failed_login_attempts (email, ip_address, user_agent, attempted_at, source, during_lockout)"
        " VALUES ($1, $2, pg_catalog.left($3, 512), $4, 'app', $5) RETURNING id",
        {TEXTOID, INETOID, TEXTOID, TIMESTAMPTZOID, BOOLOID});
    spi::Args args(5);
    args.set(0, datum::make_text(email)).set(1, ip);
    if (user_agent) args.set(2, datum::make_text(*user_agent));
    args.set(3, TimestampTzGetDatum(now)).set(4, BoolGetDatum(during_lockout));
    return DatumGetInt64(*spi::execute(insert, args, SPI_OK_INSERT_RETURNING).get(0, 1));
}

void save_account(const std::string& email, const AccountState& state, std::optional<std::int64_t> reset_after_id,
                  std::optional<std::int64_t> lockout_id, std::int64_t now) {
    static spi::Statement upsert(
        "INSERT INTO security.login_state AS s"
        " (email, locked, locked_until, lockout_id, counting_since, reset_after_id, recent_lockouts,"
        "  monitor_until, monitor_alerted, updated_at)"
        " VALUES ($1, $2, $3, CASE WHEN $2 THEN $4 END, CASE WHEN $5 IS NOT NULL THEN $9 END, coalesce($5, 0),"
        "         $6, $7, $8, $9)"
        " ON CONFLICT (email) DO UPDATE SET locked = $2, locked_until = $3,"
        "  lockout_id = CASE WHEN $2 THEN coalesce($4, s.lockout_id) END,"
        "  counting_since = CASE WHEN $5 IS NOT NULL THEN $9 ELSE s.counting_since END,"
        "  reset_after_id = coalesce($5, s.reset_after_id),"
        "  recent_lockouts = $6, monitor_until = $7, monitor_alerted = $8, updated_at = $9",
        {TEXTOID, BOOLOID, TIMESTAMPTZOID, INT8OID, INT8OID, TIMESTAMPTZARRAYOID, TIMESTAMPTZOID, BOOLOID,
         TIMESTAMPTZOID});
    spi::Args args(9);
    args.set(0, datum::make_text(email)).set(1, BoolGetDatum(state.locked));
    if (state.locked_until) args.set(2, TimestampTzGetDatum(*state.locked_until));
    if (lockout_id) args.set(3, Int64GetDatum(*lockout_id));
    if (reset_after_id) args.set(4, Int64GetDatum(*reset_after_id));
    args.set(5, datum::timestamps(state.recent_lockouts));
    if (state.monitor_until) args.set(6, TimestampTzGetDatum(*state.monitor_until));
    args.set(7, BoolGetDatum(state.monitor_alerted)).set(8, TimestampTzGetDatum(now));
    spi::execute(upsert, args, SPI_OK_INSERT);
}

bool is_admin(const std::string& email) {
    static spi::Statement admin(
        "SELECT coalesce((SELECT u.is_admin FROM security.accounts u WHERE pg_catalog.lower(u.email) = $1), false)",
        {TEXTOID});
    spi::Connection connection;
    spi::Args args(1);
    args.set(0, datum::make_text(email));
    const bool result = DatumGetBool(*spi::execute(admin, args, SPI_OK_SELECT).get(0, 1));
    connection.finish();
    return result;
}

std::int64_t last_attempt_id(const std::string& email) {
    static spi::Statement last(
        "SELECT coalesce(max(a.id), 0) FROM security.failed_login_attempts a WHERE a.email = $1", {TEXTOID});
    spi::Args args(1);
    args.set(0, datum::make_text(email));
    return DatumGetInt64(*spi::execute(last, args, SPI_OK_SELECT).get(0, 1));
}

bool ip_episode_open(Datum ip, std::int64_t now, const core::login::Policy& policy) {
    static spi::Statement open(
        "SELECT EXISTS (SELECT 1 FROM security.security_events e"
        "  WHERE e.ip_address = $1 AND e.event_type = 'ip_multi_account' AND e.occurred_at > $2)",
        {INETOID, TIMESTAMPTZOID});
    spi::Args args(2);
    args.set(0, ip).set(1, TimestampTzGetDatum(now - policy.window));
    return DatumGetBool(*spi::execute(open, args, SPI_OK_SELECT).get(0, 1));
}

std::int64_t insert_brute_force_lockout(const std::string& email, const Context& ctx, Datum ip,
                                        std::int64_t lock_until, int attempt_count, std::int64_t now) {
    static spi::Statement insert(
        "INSERT INTO security.account_lockouts"
        " (email, user_id, lockout_reason, locked_at, locked_until, ip_address, attempt_count, locked_by, notes)"
        " VALUES ($1, $2, 'brute_force', $3, $4, $5, $6, 'vitaluxe_security', $7) RETURNING id",
        {TEXTOID, UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INETOID, INT4OID, TEXTOID});
    spi::Args args(7);
    args.set(0, datum::make_text(email));
    if (ctx.user_id) args.set(1, *ctx.user_id);
    args.set(2, TimestampTzGetDatum(now)).set(3, TimestampTzGetDatum(lock_until)).set(4, ip);
    args.set(5, Int32GetDatum(attempt_count));
    args.set(6, datum::make_text("automatic: " + std::to_string(attempt_count) +
                                 " failed logins within the lockout window"));
    return DatumGetInt64(*spi::execute(insert, args, SPI_OK_INSERT_RETURNING).get(0, 1));
}

Datum start_session(const std::string& email, const Context& ctx, Datum ip,
                    const std::optional<std::string>& user_agent, std::int64_t now) {
    static spi::Statement insert(
        "INSERT INTO security.active_sessions (user_id, email, ip_address, user_agent, started_at, last_activity)"
        " VALUES ($1, $2, $3, pg_catalog.left($4, 512), $5, $5) RETURNING session_id",
        {UUIDOID, TEXTOID, INETOID, TEXTOID, TIMESTAMPTZOID});
    spi::Args args(5);
    if (ctx.user_id) args.set(0, *ctx.user_id);
    args.set(1, datum::make_text(email)).set(2, ip);
    if (user_agent) args.set(3, datum::make_text(*user_agent));
    args.set(4, TimestampTzGetDatum(now));
    spi::Rows rows = spi::execute(insert, args, SPI_OK_INSERT_RETURNING);
    // The uuid lives in SPI memory: copy it to the caller's before the connection ends.
    return call([&] { return SPI_datumTransfer(*rows.get(0, 1), false, 16); });
}

}  // namespace vlx::pg::login
