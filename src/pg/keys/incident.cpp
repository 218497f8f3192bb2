// security.mark_key_compromised, security.emergency_lockdown, security.lift_lockdown (SPEC §4).
#include "pg/boundary.hpp"

#include "core/error.hpp"
#include "pg/datum.hpp"
#include "pg/events.hpp"
#include "pg/keys/keyring.hpp"
#include "pg/spi.hpp"

namespace keys = vlx::pg::keys;
namespace spi = vlx::pg::spi;
namespace datum = vlx::pg::datum;
namespace events = vlx::pg::events;
using vlx::core::Error;
using vlx::core::ErrorKind;

namespace {

// A P0 incident (respond_by from severity_levels, 1 hour for critical).
std::int64_t open_p0(const char* type, const std::string& title, const std::string& summary,
                     const std::string& details_json, std::int64_t now) {
    static spi::Statement insert(
        "INSERT INTO security.incidents (incident_type, title, severity, detected_at, respond_by, opened_by, summary,"
        "                                detection, details)"
        " VALUES ($1, $2, 'critical', $3,"
        "         $3 + coalesce((SELECT l.response_time FROM security.severity_levels l WHERE l.severity = 'critical'),"
        "                       interval '1 hour'),"
        "         security.actor(), $4, $5, $6)"
        " RETURNING id",
        {TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, JSONBOID});
    spi::Args a(6);
    a.set(0, datum::make_text(type)).set(1, datum::make_text(title)).set(2, TimestampTzGetDatum(now));
    a.set(3, datum::make_text(summary)).set(4, datum::make_text("declared by " + std::string("an administrator")));
    a.set(5, datum::jsonb(details_json));
    return DatumGetInt64(*spi::execute(insert, a, SPI_OK_INSERT_RETURNING).get(0, 1));
}

void link_event(std::int64_t event_id, std::int64_t incident_id) {
    static spi::Statement link("UPDATE security.security_events SET incident_id = $2 WHERE id = $1", {INT8OID, INT8OID});
    spi::Args a(2);
    a.set(0, Int64GetDatum(event_id)).set(1, Int64GetDatum(incident_id));
    spi::execute(link, a, SPI_OK_UPDATE);
}

}  // namespace

// security.mark_key_compromised(key_id integer, notes text) -> bigint (the incident)
VLX_FUNCTION(vlx_mark_key_compromised) {
    const std::int32_t key_id = DatumGetInt32(datum::require_arg(fcinfo, 0, "key_id"));
    const std::string notes = datum::require_nonblank(fcinfo, 1, "notes");
    const std::int64_t now = keys::clock_now();
    spi::Connection conn;
    static spi::Statement mark(
        "WITH k AS (SELECT key_id, status AS was FROM security.encryption_keys WHERE key_id = $1 FOR UPDATE)"
        " UPDATE security.encryption_keys e SET status = 'compromised', rotated_at = coalesce(e.rotated_at, $2)"
        "   FROM k WHERE e.key_id = k.key_id AND k.was IN ('active', 'retired')"
        " RETURNING e.purpose, k.was",
        {INT4OID, TIMESTAMPTZOID});
    static spi::Statement exists("SELECT status FROM security.encryption_keys WHERE key_id = $1", {INT4OID});
    static spi::Statement restart(
        "UPDATE security.key_rotation_progress p SET phase = 1, last_key = NULL, updated_at = $2"
        "  FROM security.key_rotations r"
        " WHERE r.id = p.rotation_id AND r.status = 'running' AND r.purpose = $1",
        {TEXTOID, TIMESTAMPTZOID});
    spi::Args a(2);
    a.set(0, Int32GetDatum(key_id)).set(1, TimestampTzGetDatum(now));
    spi::Rows rows = spi::execute(mark, a, SPI_OK_UPDATE_RETURNING);
    if (rows.empty()) {
        spi::Args e(1);
        e.set(0, Int32GetDatum(key_id));
        spi::Rows st = spi::execute(exists, e, SPI_OK_SELECT);
        if (st.empty()) throw Error(ErrorKind::InvalidParameter, "data key " + std::to_string(key_id) + " does not exist");
        throw Error(ErrorKind::InvalidParameter,
                    "data key " + std::to_string(key_id) + " is already " + datum::to_string(*st.get(0, 1)));
    }
    const std::string purpose = datum::to_string(*rows.get(0, 1));
    const std::string was = datum::to_string(*rows.get(0, 2));
    // A running rotation of this purpose goes back to re-encrypting compromised values first.
    spi::Args r(2);
    r.set(0, datum::make_text(purpose)).set(1, TimestampTzGetDatum(now));
    spi::execute(restart, r, SPI_OK_UPDATE);

    const std::string details = "{\"key_id\":" + std::to_string(key_id) + ",\"purpose\":" + datum::json_quote(purpose) +
                                ",\"previous_status\":" + datum::json_quote(was) +
                                ",\"action\":\"CALL security.rotate_keys()\"}";
    const std::int64_t incident =
        open_p0("key_compromised", "Data encryption key " + std::to_string(key_id) + " compromised", notes, details, now);
    events::Event ev;
    ev.event_type = "key_compromised";
    ev.severity = "critical";
    ev.occurred_at = now;
    ev.details_json = "{\"key_id\":" + std::to_string(key_id) + ",\"purpose\":" + datum::json_quote(purpose) +
                      ",\"incident_id\":" + std::to_string(incident) + "}";
    link_event(events::raise(ev), incident);
    keys::keys_changed();
    conn.finish();
    return Int64GetDatum(incident);
}

// security.emergency_lockdown(reason text) -> bigint (the incident)
VLX_FUNCTION(vlx_emergency_lockdown) {
    const std::string reason = datum::require_nonblank(fcinfo, 0, "reason");
    const std::int64_t now = keys::clock_now();
    spi::Connection conn;
    // Already locked down: lock what is new (accounts, sessions) under the same incident.
    static spi::Statement current(
        "SELECT lockdown_incident_id FROM security.system_state WHERE app_offline FOR UPDATE", {});
    spi::Args none(0);
    std::optional<std::int64_t> existing;
    {
        spi::Rows cur = spi::execute(current, none, SPI_OK_SELECT);
        if (!cur.empty())
            if (auto v = cur.get(0, 1)) existing = DatumGetInt64(*v);
    }
    const std::int64_t incident =
        existing ? *existing : open_p0("emergency_lockdown", "Emergency lockdown", reason, "{}", now);

    static spi::Statement state(
        "INSERT INTO security.system_state AS s (singleton, app_offline, lockdown_reason, lockdown_started_at,"
        "                                        lockdown_started_by, lockdown_incident_id, updated_at)"
        " VALUES (true, true, $1, $2, security.actor(), $3, $2)"
        " ON CONFLICT (singleton) DO UPDATE SET app_offline = true, lockdown_reason = EXCLUDED.lockdown_reason,"
        "   lockdown_started_at = EXCLUDED.lockdown_started_at, lockdown_started_by = EXCLUDED.lockdown_started_by,"
        "   lockdown_incident_id = EXCLUDED.lockdown_incident_id, updated_at = EXCLUDED.updated_at",
        {TEXTOID, TIMESTAMPTZOID, INT8OID});
    // Every non-admin account without an emergency lockdown yet: a lockout row, and the
    // login state that check_login reads (locked until an admin lifts it).
    static spi::Statement lock(
        "WITH targets AS ("
        "  SELECT DISTINCT ON (pg_catalog.lower(btrim(a.email))) a.user_id, pg_catalog.lower(btrim(a.email)) AS email"
        "    FROM security.accounts a"
        "   WHERE NOT a.is_admin"
        "     AND NOT EXISTS (SELECT 1 FROM security.account_lockouts l"
        "                      WHERE l.email = pg_catalog.lower(btrim(a.email))"
        "                        AND l.lockout_reason = 'emergency_lockdown' AND l.unlocked_at IS NULL)"
        "   ORDER BY pg_catalog.lower(btrim(a.email)), a.user_id"
        "), lockouts AS ("
        "  INSERT INTO security.account_lockouts (email, user_id, lockout_reason, locked_at, locked_until, locked_by, notes)"
        "  SELECT t.email, t.user_id, 'emergency_lockdown', $1, NULL, security.actor(), $2 FROM targets t"
        "  RETURNING id, email"
        "), states AS ("
        "  INSERT INTO security.login_state AS s (email, locked, locked_until, lockout_id, updated_at)"
        "  SELECT l.email, true, NULL, l.id, $1 FROM lockouts l"
        "  ON CONFLICT (email) DO UPDATE SET locked = true, locked_until = NULL, lockout_id = EXCLUDED.lockout_id,"
        "     updated_at = EXCLUDED.updated_at"
        "  RETURNING 1"
        ") SELECT (SELECT pg_catalog.count(*) FROM lockouts), (SELECT pg_catalog.count(*) FROM states)",
        {TIMESTAMPTZOID, TEXTOID});
    static spi::Statement end_sessions(
        "UPDATE security.active_sessions s SET ended_at = $1, end_reason = 'emergency_lockdown'"
        " WHERE s.ended_at IS NULL"
        "   AND NOT EXISTS (SELECT 1 FROM security.accounts a WHERE a.is_admin"
        "                    AND (a.user_id = s.user_id OR pg_catalog.lower(a.email) = pg_catalog.lower(s.email)))",
        {TIMESTAMPTZOID});
    if (!existing) {
        spi::Args sa(3);
        sa.set(0, datum::make_text(reason)).set(1, TimestampTzGetDatum(now)).set(2, Int64GetDatum(incident));
        spi::execute(state, sa, SPI_OK_INSERT);
    }
    spi::Args la(2);
    la.set(0, TimestampTzGetDatum(now)).set(1, datum::make_text("emergency lockdown: " + reason));
    spi::Rows locked = spi::execute(lock, la, SPI_OK_SELECT);
    const std::int64_t accounts = DatumGetInt64(*locked.get(0, 1));
    spi::Args ea(1);
    ea.set(0, TimestampTzGetDatum(now));
    spi::execute(end_sessions, ea, SPI_OK_UPDATE);
    const auto sessions = static_cast<std::int64_t>(SPI_processed);

    if (existing) {
        static spi::Statement more(
            "UPDATE security.incidents SET response_actions = response_actions || $2 WHERE id = $1", {INT8OID, JSONBOID});
        spi::Args ma(2);
        ma.set(0, Int64GetDatum(incident));
        ma.set(1, datum::jsonb("[" + datum::json_quote("lockdown extended (" + reason + "): " + std::to_string(accounts) +
                                                      " more accounts locked, " + std::to_string(sessions) +
                                                      " more sessions ended") + "]"));
        spi::execute(more, ma, SPI_OK_UPDATE);
        conn.finish();
        return Int64GetDatum(incident);
    }
    events::Event ev;
    ev.event_type = "emergency_lockdown";
    ev.severity = "critical";
    ev.occurred_at = now;
    ev.extra_roles = {"executive", "legal"};
    ev.details_json = "{\"incident_id\":" + std::to_string(incident) + ",\"accounts_locked\":" + std::to_string(accounts) +
                      ",\"sessions_ended\":" + std::to_string(sessions) + "}";
    link_event(events::raise(ev), incident);
    static spi::Statement note(
        "UPDATE security.incidents SET details = details || $2, response_actions = response_actions || $3 WHERE id = $1",
        {INT8OID, JSONBOID, JSONBOID});
    spi::Args na(3);
    na.set(0, Int64GetDatum(incident));
    na.set(1, datum::jsonb("{\"accounts_locked\":" + std::to_string(accounts) +
                           ",\"sessions_ended\":" + std::to_string(sessions) + "}"));
    na.set(2, datum::jsonb("[\"emergency lockdown: " + std::to_string(accounts) + " non-admin accounts locked, " +
                           std::to_string(sessions) + " sessions ended, application offline\"]"));
    spi::execute(note, na, SPI_OK_UPDATE);
    conn.finish();
    return Int64GetDatum(incident);
}

// security.lift_lockdown(notes text) -> integer (accounts unlocked)
VLX_FUNCTION(vlx_lift_lockdown) {
    const std::string notes = datum::require_nonblank(fcinfo, 0, "notes");
    const std::int64_t now = keys::clock_now();
    spi::Connection conn;
    static spi::Statement flag(
        "UPDATE security.system_state SET app_offline = false, updated_at = $1 WHERE app_offline"
        " RETURNING lockdown_incident_id",
        {TIMESTAMPTZOID});
    static spi::Statement unlock(
        "WITH ended AS ("
        "  UPDATE security.account_lockouts SET unlocked_at = $1, unlocked_by = security.actor(),"
        "         notes = coalesce(notes || '; ', '') || 'lockdown lifted: ' || $2"
        "   WHERE lockout_reason = 'emergency_lockdown' AND unlocked_at IS NULL"
        "  RETURNING id, email"
        "), other AS ("
        "  SELECT DISTINCT ON (l.email) l.email, l.id, l.locked_until"
        "    FROM security.account_lockouts l JOIN ended e ON e.email = l.email"
        "   WHERE l.unlocked_at IS NULL AND l.lockout_reason <> 'emergency_lockdown'"
        "     AND (l.locked_until IS NULL OR l.locked_until > $1)"
        "   ORDER BY l.email, l.locked_until DESC NULLS FIRST"
        "), states AS ("
        "  UPDATE security.login_state s"
        "     SET locked = (o.id IS NOT NULL), locked_until = o.locked_until, lockout_id = o.id, updated_at = $1"
        "    FROM ended e LEFT JOIN other o ON o.email = e.email"
        "   WHERE s.email = e.email"
        "  RETURNING 1"
        ") SELECT (SELECT pg_catalog.count(DISTINCT email) FROM ended), (SELECT pg_catalog.count(*) FROM states)",
        {TIMESTAMPTZOID, TEXTOID});
    spi::Args fa(1);
    fa.set(0, TimestampTzGetDatum(now));
    spi::Rows f = spi::execute(flag, fa, SPI_OK_UPDATE_RETURNING);
    std::optional<std::int64_t> incident;
    if (!f.empty())
        if (auto v = f.get(0, 1)) incident = DatumGetInt64(*v);
    spi::Args ua(2);
    ua.set(0, TimestampTzGetDatum(now)).set(1, datum::make_text(notes));
    spi::Rows u = spi::execute(unlock, ua, SPI_OK_SELECT);
    const std::int64_t accounts = DatumGetInt64(*u.get(0, 1));
    if (f.empty() && accounts == 0)
        throw Error(ErrorKind::ConfigurationMissing, "no emergency lockdown is in effect");
    if (incident) {
        static spi::Statement note(
            "UPDATE security.incidents SET response_actions = response_actions || $2 WHERE id = $1", {INT8OID, JSONBOID});
        spi::Args na(2);
        na.set(0, Int64GetDatum(*incident));
        na.set(1, datum::jsonb("[" + datum::json_quote("lockdown lifted: " + std::to_string(accounts) +
                                                      " accounts unlocked; notes: " + notes) +
                               "]"));
        spi::execute(note, na, SPI_OK_UPDATE);
    }
    conn.finish();
    return Int32GetDatum(static_cast<std::int32_t>(accounts));
}
