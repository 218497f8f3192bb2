// Admin and mailer functions over security events and the notification outbox (SPEC §2):
// resolve_event, claim_notifications, mark_notification_sent.
#include "pg/boundary.hpp"

#include "core/error.hpp"
#include "pg/datum.hpp"
#include "pg/login/login_store.hpp"
#include "pg/spi.hpp"

namespace spi = vlx::pg::spi;
namespace datum = vlx::pg::datum;
using vlx::core::Error;
using vlx::core::ErrorKind;

namespace {

bool is_disposition(const std::string& d) {
    for (const char* v : {"legitimate", "unauthorized", "false_positive", "resolved"})
        if (d == v) return true;
    return false;
}

// A claim older than this is considered abandoned (the mailer died) and may be claimed again.
constexpr const char* kClaimTimeout = "5 minutes";

}  // namespace

// security.resolve_event(id bigint, disposition text, notes text) -> void
VLX_FUNCTION(vlx_resolve_event) {
    const std::int64_t id = DatumGetInt64(datum::require_arg(fcinfo, 0, "id"));
    const std::string disposition = datum::require_text(fcinfo, 1, "disposition");
    if (!is_disposition(disposition))
        throw Error(ErrorKind::InvalidParameter, "unknown disposition \"" + disposition + "\"", {},
                    "Use legitimate, unauthorized, false_positive or resolved.");
    const std::optional<std::string> notes = datum::text_arg(fcinfo, 2);
    const std::int64_t now = vlx::pg::login::clock_now();

    static spi::Statement resolve(
        "UPDATE security.security_events SET status = 'resolved', disposition = $2, notes = $3,"
        " resolved_at = $4, resolved_by = security.actor() WHERE id = $1",
        {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID});
    spi::Connection connection;
    spi::Args args(4);
    args.set(0, Int64GetDatum(id)).set(1, datum::make_text(disposition)).set(3, TimestampTzGetDatum(now));
    if (notes) args.set(2, datum::make_text(*notes));
    spi::execute(resolve, args, SPI_OK_UPDATE);
    const bool found = SPI_processed == 1;
    connection.finish();
    if (!found) throw Error(ErrorKind::InvalidParameter, "no security event with id " + std::to_string(id));
    PG_RETURN_VOID();
}

// security.claim_notifications(limit int) -> SETOF security.notifications
// Concurrent mailers each get their own rows (FOR UPDATE SKIP LOCKED), oldest first.
VLX_FUNCTION(vlx_claim_notifications) {
    const int limit = DatumGetInt32(datum::require_arg(fcinfo, 0, "limit"));
    if (limit < 1 || limit > 10000) throw Error(ErrorKind::InvalidParameter, "limit must be between 1 and 10000");
    const std::int64_t now = vlx::pg::login::clock_now();

    static spi::Statement claim(
        "WITH claimed AS ("
        " UPDATE security.notifications n SET claimed_at = $2, attempts = n.attempts + 1"
        "  WHERE n.id IN (SELECT c.id FROM security.notifications c"
        "                  WHERE c.sent_at IS NULL"
        "                    AND (c.claimed_at IS NULL OR c.claimed_at < $2 - $3::interval)"
        "                  ORDER BY c.created_at, c.id LIMIT $1 FOR UPDATE SKIP LOCKED)"
        "  RETURNING n.*"
        ") SELECT * FROM claimed ORDER BY created_at, id",
        {INT4OID, TIMESTAMPTZOID, TEXTOID});

    vlx::pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    spi::Connection connection;
    spi::Args args(3);
    args.set(0, Int32GetDatum(limit)).set(1, TimestampTzGetDatum(now)).set(2, datum::make_text(kClaimTimeout));
    spi::Rows rows = spi::execute(claim, args, SPI_OK_SELECT);
    vlx::pg::call([&] {
        // The tuplestore lives in the caller's per-query memory; SPI rows are copied in.
        for (std::uint64_t i = 0; i < rows.size(); ++i)
            tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
    });
    connection.finish();
    return Datum(0);
}

// security.mark_notification_sent(id bigint) -> boolean (false when already sent)
VLX_FUNCTION(vlx_mark_notification_sent) {
    const std::int64_t id = DatumGetInt64(datum::require_arg(fcinfo, 0, "id"));
    const std::int64_t now = vlx::pg::login::clock_now();
    static spi::Statement mark(
        "UPDATE security.notifications SET sent_at = $2 WHERE id = $1 AND sent_at IS NULL RETURNING id",
        {INT8OID, TIMESTAMPTZOID});
    static spi::Statement exists("SELECT 1 FROM security.notifications WHERE id = $1", {INT8OID});
    spi::Connection connection;
    spi::Args args(2);
    args.set(0, Int64GetDatum(id)).set(1, TimestampTzGetDatum(now));
    const bool marked = !spi::execute(mark, args, SPI_OK_UPDATE_RETURNING).empty();
    bool known = marked;
    if (!marked) {
        spi::Args one(1);
        one.set(0, Int64GetDatum(id));
        known = !spi::execute(exists, one, SPI_OK_SELECT).empty();
    }
    connection.finish();
    if (!known) throw Error(ErrorKind::InvalidParameter, "no notification with id " + std::to_string(id));
    return BoolGetDatum(marked);
}
