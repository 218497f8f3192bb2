// Admin actions on accounts and networks (SPEC §1): unlock_account, lock_account,
// block_ip, unblock_ip. Each records its actor (security.actor()).
#include "pg/boundary.hpp"

#include "core/error.hpp"
#include "core/login/email.hpp"
#include "core/login/lockout_policy.hpp"
#include "pg/datum.hpp"
#include "pg/login/login_store.hpp"
#include "pg/spi.hpp"

namespace login = vlx::pg::login;
namespace spi = vlx::pg::spi;
namespace datum = vlx::pg::datum;
using vlx::core::Error;
using vlx::core::ErrorKind;

namespace {

void notice(const std::string& message) {
    vlx::pg::call([&] { ereport(NOTICE, (errmsg("%s", message.c_str()))); });
}

// An optional end time must lie in the future of the extension's clock.
std::optional<std::int64_t> until_arg(FunctionCallInfo fcinfo, int n, std::int64_t now) {
    auto value = datum::arg(fcinfo, n);
    if (!value) return std::nullopt;
    const std::int64_t until = DatumGetTimestampTz(*value);
    if (until <= now) throw Error(ErrorKind::InvalidParameter, "until must be in the future");
    return until;
}

bool is_lockout_reason(const std::string& reason) {
    for (const char* r : {"brute_force", "manual", "suspicious_activity", "emergency_lockdown", "verification_required"})
        if (reason == r) return true;
    return false;
}

}  // namespace

// security.unlock_account(email text, notes text) -> integer (lockouts ended)
VLX_FUNCTION(vlx_unlock_account) {
    const std::string email = login::email_argument(fcinfo, 0);
    const std::string notes = datum::require_nonblank(fcinfo, 1, "notes");
    const std::int64_t now = login::clock_now();
    const auto policy = login::current_policy();

    static spi::Statement end_lockouts(
        "UPDATE security.account_lockouts SET unlocked_at = $2, unlocked_by = security.actor(),"
        " notes = CASE WHEN notes IS NULL THEN $3 ELSE notes || E'\\n' || $3 END"
        " WHERE email = $1 AND unlocked_at IS NULL AND (locked_until IS NULL OR locked_until > $2)"
        " RETURNING id",
        {TEXTOID, TIMESTAMPTZOID, TEXTOID});
    // The user is asked to choose a new password; MFA is recommended; the account is
    // watched so that its next failure raises post_unlock_failure.
    static spi::Statement follow_up(
        "WITH acct AS ("
        "  UPDATE security.accounts SET mfa_recommended = true, monitor_until = $2, updated_at = $3"
        "   WHERE pg_catalog.lower(email) = $1 RETURNING user_id"
        ")"
        "INSERT INTO security.notifications (channel, recipient_role, recipient, subject, payload, created_at)"
        " VALUES ('email', 'user', $1, 'password_reset_requested',"
        "  pg_catalog.jsonb_build_object('type', 'password_reset_requested', 'email', $1,"
        "   'user_id', (SELECT user_id FROM acct), 'lockouts_ended', $4::int, 'requested_by', security.actor(),"
        "   'mfa_recommended', true), $3)",
        {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID});

    spi::Connection connection;
    login::lock_account_key(email);
    const auto state = login::observe(email, std::nullopt, now, policy, login::Read::Account).account;
    spi::Args args(3);
    args.set(0, datum::make_text(email)).set(1, TimestampTzGetDatum(now)).set(2, datum::make_text(notes));
    const auto ended = static_cast<int>(spi::execute(end_lockouts, args, SPI_OK_UPDATE_RETURNING).size());
    if (ended == 0) {
        connection.finish();
        notice("the account is not locked; nothing was changed");
        return Int32GetDatum(0);
    }
    const auto next = vlx::core::login::on_admin_unlock(state, now, policy);
    login::save_account(email, next, login::last_attempt_id(email), std::nullopt, now);
    spi::Args follow(4);
    follow.set(0, datum::make_text(email)).set(1, TimestampTzGetDatum(*next.monitor_until));
    follow.set(2, TimestampTzGetDatum(now)).set(3, Int32GetDatum(ended));
    spi::execute(follow_up, follow, SPI_OK_INSERT);
    connection.finish();
    return Int32GetDatum(ended);
}

// security.lock_account(email text, reason text, notes text, until timestamptz) -> bigint
VLX_FUNCTION(vlx_lock_account) {
    const std::string email = login::email_argument(fcinfo, 0);
    const std::string reason = datum::require_text(fcinfo, 1, "reason");
    if (!is_lockout_reason(reason))
        throw Error(ErrorKind::InvalidParameter, "unknown lockout reason \"" + reason + "\"", {},
                    "Use manual, suspicious_activity, verification_required, brute_force or emergency_lockdown.");
    const std::optional<std::string> notes = datum::text_arg(fcinfo, 2);
    const std::int64_t now = login::clock_now();
    const std::optional<std::int64_t> until = until_arg(fcinfo, 3, now);

    // A new lock supersedes the active one, so an account has one active lockout at most.
    static spi::Statement supersede(
        "UPDATE security.account_lockouts SET unlocked_at = $2, unlocked_by = security.actor(),"
        " notes = CASE WHEN notes IS NULL THEN 'superseded by a new lockout'"
        "              ELSE notes || E'\\nsuperseded by a new lockout' END"
        " WHERE email = $1 AND unlocked_at IS NULL AND (locked_until IS NULL OR locked_until > $2)",
        {TEXTOID, TIMESTAMPTZOID});
    static spi::Statement insert(
        "INSERT INTO security.account_lockouts"
        " (email, user_id, lockout_reason, locked_at, locked_until, locked_by, notes)"
        " VALUES ($1, (SELECT a.user_id FROM security.accounts a WHERE pg_catalog.lower(a.email) = $1),"
        "         $2, $3, $4, security.actor(), $5) RETURNING id",
        {TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID});
    static spi::Statement end_sessions(
        "UPDATE security.active_sessions SET ended_at = $2, end_reason = 'terminated'"
        " WHERE email = $1 AND ended_at IS NULL",
        {TEXTOID, TIMESTAMPTZOID});

    spi::Connection connection;
    login::lock_account_key(email);
    const auto state = login::observe(email, std::nullopt, now, login::current_policy(), login::Read::Account).account;
    spi::Args who(2);
    who.set(0, datum::make_text(email)).set(1, TimestampTzGetDatum(now));
    spi::execute(supersede, who, SPI_OK_UPDATE);
    spi::Args args(5);
    args.set(0, datum::make_text(email)).set(1, datum::make_text(reason)).set(2, TimestampTzGetDatum(now));
    if (until) args.set(3, TimestampTzGetDatum(*until));
    if (notes) args.set(4, datum::make_text(*notes));
    const std::int64_t id = DatumGetInt64(*spi::execute(insert, args, SPI_OK_INSERT_RETURNING).get(0, 1));
    login::save_account(email, vlx::core::login::on_admin_lock(state, until), login::last_attempt_id(email), id, now);
    spi::execute(end_sessions, who, SPI_OK_UPDATE);
    connection.finish();
    return Int64GetDatum(id);
}

// security.block_ip(network cidr, reason text, until timestamptz) -> bigint
VLX_FUNCTION(vlx_block_ip) {
    const Datum network = datum::require_arg(fcinfo, 0, "network");
    const std::string reason = datum::require_nonblank(fcinfo, 1, "reason");
    const std::int64_t now = login::clock_now();
    const std::optional<std::int64_t> until = until_arg(fcinfo, 2, now);

    static spi::Statement insert(
        "INSERT INTO security.blocked_ips (network, reason, blocked_at, blocked_by, blocked_until)"
        " VALUES ($1, $2, $3, security.actor(), $4) RETURNING id",
        {CIDROID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID});
    spi::Connection connection;
    spi::Args args(4);
    args.set(0, network).set(1, datum::make_text(reason)).set(2, TimestampTzGetDatum(now));
    if (until) args.set(3, TimestampTzGetDatum(*until));
    const std::int64_t id = DatumGetInt64(*spi::execute(insert, args, SPI_OK_INSERT_RETURNING).get(0, 1));
    connection.finish();
    return Int64GetDatum(id);
}

// security.unblock_ip(network cidr, notes text) -> integer (blocks ended)
VLX_FUNCTION(vlx_unblock_ip) {
    const Datum network = datum::require_arg(fcinfo, 0, "network");
    const std::string notes = datum::require_nonblank(fcinfo, 1, "notes");
    const std::int64_t now = login::clock_now();

    static spi::Statement end_blocks(
        "UPDATE security.blocked_ips SET unblocked_at = $2, unblocked_by = security.actor(), notes = $3"
        " WHERE network = $1 AND unblocked_at IS NULL AND (blocked_until IS NULL OR blocked_until > $2)",
        {CIDROID, TIMESTAMPTZOID, TEXTOID});
    spi::Connection connection;
    spi::Args args(3);
    args.set(0, network).set(1, TimestampTzGetDatum(now)).set(2, datum::make_text(notes));
    spi::execute(end_blocks, args, SPI_OK_UPDATE);
    const auto ended = static_cast<int>(SPI_processed);
    connection.finish();
    if (ended == 0) notice("no active block for this network; nothing was changed");
    return Int32GetDatum(ended);
}
