#include "pg/events.hpp"

#include "pg/datum.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "commands/async.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::events {

std::int64_t raise(const Event& event) {
    // One statement: the event, then one outbox row per recipient role.
    static spi::Statement insert_event(
        "WITH ev AS ("
        "  INSERT INTO security.security_events"
        "    (event_type, severity, user_id, email, ip_address, attempt_count, details, occurred_at)"
        "  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        "  RETURNING id, event_type, severity, priority, occurred_at"
        "), recipients AS ("
        "  SELECT DISTINCT r.role"
        "    FROM ev"
        "    JOIN security.severity_levels l ON l.severity = ev.severity"
        "    CROSS JOIN LATERAL pg_catalog.unnest(l.notify_roles || $9::text[]) AS r(role)"
        "), outbox AS ("
        "  INSERT INTO security.notifications"
        "    (channel, recipient_role, recipient, subject, payload, event_id, created_at)"
        "  SELECT 'email', r.role, security.contact_email(r.role),"
        "         pg_catalog.format('[%s] %s: security event #%s', ev.priority, ev.event_type, ev.id),"
        "         pg_catalog.jsonb_build_object('event_id', ev.id, 'event_type', ev.event_type,"
        "             'severity', ev.severity, 'priority', ev.priority, 'occurred_at', ev.occurred_at),"
        "         ev.id, ev.occurred_at"
        "    FROM ev CROSS JOIN recipients r"
        "  RETURNING 1"
        ")"
        "SELECT ev.id, ev.priority, (SELECT pg_catalog.count(*) FROM outbox) FROM ev",
        {TEXTOID, TEXTOID, UUIDOID, TEXTOID, INETOID, INT4OID, JSONBOID, TIMESTAMPTZOID, TEXTARRAYOID});

    spi::Args args(9);
    args.set(0, datum::make_text(event.event_type));
    args.set(1, datum::make_text(event.severity));
    if (event.user_id) args.set(2, *event.user_id);
    if (event.email) args.set(3, datum::make_text(*event.email));
    if (event.ip_address) args.set(4, *event.ip_address);
    if (event.attempt_count) args.set(5, Int32GetDatum(*event.attempt_count));
    args.set(6, datum::jsonb(event.details_json));
    args.set(7, TimestampTzGetDatum(event.occurred_at));
    args.set(8, datum::strings(event.extra_roles));

    spi::Rows rows = spi::execute(insert_event, args, SPI_OK_SELECT);
    const std::int64_t id = DatumGetInt64(*rows.get(0, 1));
    const std::string priority = datum::to_string(*rows.get(0, 2));

    // Only identifiers and fixed vocabulary: a listener learns that something happened and
    // where to look, never who or what.
    char payload[256];
    snprintf(payload, sizeof payload, "{\"id\":%lld,\"event_type\":\"%s\",\"severity\":\"%s\",\"priority\":\"%s\"}",
             static_cast<long long>(id), event.event_type, event.severity, priority.c_str());
    call([&] { Async_Notify("security_alerts", payload); });
    return id;
}

}  // namespace vlx::pg::events
