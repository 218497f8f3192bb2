// Tamper evidence (SPEC §3): the row-hash and guard triggers, the seal queue for
// security_events, security.seal_audit_chain, security.verify_audit_chain and
// security.purge_audit_before.
#include "core/audit/canonical.hpp"
#include "core/error.hpp"
#include "core/phi/rules.hpp"
#include "core/settings_catalog.hpp"
#include "pg/datum.hpp"
#include "pg/phi/pgx.hpp"
#include "pg/phi/shared_state.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

namespace phi = vlx::pg::phi;
namespace spi = vlx::pg::spi;
using vlx::pg::call;
using vlx::core::Error;
using vlx::core::ErrorKind;
using vlx::core::Setting;

namespace {

TriggerData* trigger_data(FunctionCallInfo fcinfo, const char* name) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        throw Error(ErrorKind::Internal, std::string(name) + " must be called as a trigger");
    return reinterpret_cast<TriggerData*>(fcinfo->context);
}

phi::Source source_of(Relation rel) {
    const char* name = RelationGetRelationName(rel);
    if (std::strcmp(name, "audit_logs") == 0) return phi::Source::AuditLogs;
    return phi::Source::SecurityEvents;
}

// security_events UPDATE from status 'open' to anything else: the shared de-dup slot goes.
void forget_if_closed(TriggerData* td) {
    if (!phi::shared::available()) return;
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    std::optional<phi::Uuid> user;
    std::int64_t id = 0;
    const bool closed = call([&] {
        const int c_status = SPI_fnumber(desc, "status"), c_user = SPI_fnumber(desc, "user_id"),
                  c_id = SPI_fnumber(desc, "id");
        bool n1 = false, n2 = false, nu = false, ni = false;
        Datum before = heap_getattr(td->tg_trigtuple, c_status, desc, &n1);
        Datum after = heap_getattr(td->tg_newtuple, c_status, desc, &n2);
        Datum u = heap_getattr(td->tg_trigtuple, c_user, desc, &nu);
        Datum i = heap_getattr(td->tg_trigtuple, c_id, desc, &ni);
        if (n1 || nu || ni) return false;
        if (std::strcmp(TextDatumGetCString(before), "open") != 0) return false;
        if (!n2 && std::strcmp(TextDatumGetCString(after), "open") == 0) return false;
        user = phi::uuid_of(u);
        id = DatumGetInt64(i);
        return true;
    });
    if (closed && user) phi::shared::forget_event(*user, id);
}

}  // namespace

// BEFORE INSERT FOR EACH ROW on security_events: set row_hash. (audit_logs rows are
// validated and hashed by the statement trigger, which hands the hash to the sealer.)
VLX_FUNCTION(vlx_audit_row_hash) {
    TriggerData* td = trigger_data(fcinfo, "vlx_audit_row_hash");
    if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
        !TRIGGER_FIRED_BY_INSERT(td->tg_event))
        throw Error(ErrorKind::Internal, "vlx_audit_row_hash: BEFORE INSERT FOR EACH ROW only");
    Relation rel = td->tg_relation;
    TupleDesc desc = RelationGetDescr(rel);
    const phi::Source source = source_of(rel);
    HeapTuple tuple = td->tg_trigtuple;
    if (source != phi::Source::SecurityEvents) throw Error(ErrorKind::Internal, "vlx_audit_row_hash: security_events only");
    const vlx::core::Sha256Digest digest = phi::tuple_digest(source, tuple, desc);
    // pg_restore (a superuser) brings rows back with their row_hash: when it is the right
    // one the row was judged and chained in the dumped database, and its state and chain
    // entry come back from the dump too. Anyone else's row_hash is overwritten.
    const bool restored = call([&] {
        if (!superuser()) return false;
        bool isnull = false;
        Datum given = heap_getattr(tuple, SPI_fnumber(desc, "row_hash"), desc, &isnull);
        if (isnull) return false;
        return phi::digest_of(given) == digest;
    });
    if (restored) {
        bool isnull = false;
        const Datum id = call([&] { return heap_getattr(tuple, SPI_fnumber(desc, "id"), desc, &isnull); });
        if (!isnull) phi::note_restored(source, DatumGetInt64(id));
        return PointerGetDatum(tuple);
    }
    const Datum hash = phi::digest_datum(digest);
    return call([&] {
        int col = SPI_fnumber(desc, "row_hash");
        bool isnull = false;
        HeapTuple out = heap_modify_tuple_by_cols(tuple, desc, 1, &col, const_cast<Datum*>(&hash), &isnull);
        return PointerGetDatum(out);
    });
}

// AFTER INSERT FOR EACH STATEMENT on security_events: queue the new rows for sealing.
VLX_FUNCTION(vlx_audit_enqueue) {
    TriggerData* td = trigger_data(fcinfo, "vlx_audit_enqueue");
    std::vector<std::optional<Datum>> ids;
    call([&] {
        Tuplestorestate* ts = td->tg_newtable;
        if (!ts) elog(ERROR, "vlx_audit_enqueue needs REFERENCING NEW TABLE");
        TupleDesc desc = RelationGetDescr(td->tg_relation);
        const int id_col = SPI_fnumber(desc, "id");
        TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
        tuplestore_rescan(ts);
        while (tuplestore_gettupleslot(ts, true, false, slot)) {
            bool isnull = false;
            Datum d = slot_getattr(slot, id_col, &isnull);
            if (!isnull && !phi::take_restored(phi::Source::SecurityEvents, DatumGetInt64(d))) ids.emplace_back(d);
        }
        ExecDropSingleTupleTableSlot(slot);
    });
    if (ids.empty()) return PointerGetDatum(nullptr);
    spi::Connection conn;
    static spi::Statement enqueue(
        "INSERT INTO security.audit_seal_queue (source, row_id) SELECT 2, x FROM pg_catalog.unnest($1::int8[]) AS x",
        {INT8ARRAYOID});
    spi::Args args(1);
    args.set(0, phi::make_array(INT8OID, ids));
    spi::execute(enqueue, args, SPI_OK_INSERT);
    conn.finish();
    return PointerGetDatum(nullptr);
}

// BEFORE UPDATE OR DELETE FOR EACH ROW, BEFORE TRUNCATE: the append-only guard.
VLX_FUNCTION(vlx_audit_guard) {
    TriggerData* td = trigger_data(fcinfo, "vlx_audit_guard");
    Relation rel = td->tg_relation;
    const char* table = RelationGetRelationName(rel);
    const bool allowed = phi::extension_write_active();
    if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event)) {
        if (allowed) return PointerGetDatum(nullptr);
        throw Error(ErrorKind::InsufficientPrivilege, std::string("security.") + table + " cannot be truncated",
                    "The audit trail is append-only and hash-chained, for every role including superusers.",
                    "Old rows are removed with security.purge_audit_before(timestamptz).");
    }
    if (TRIGGER_FIRED_BY_DELETE(td->tg_event)) {
        if (allowed) return PointerGetDatum(td->tg_trigtuple);
        throw Error(ErrorKind::InsufficientPrivilege, std::string("rows of security.") + table + " cannot be deleted",
                    "The audit trail is append-only and hash-chained, for every role including superusers.",
                    "Old rows are removed with security.purge_audit_before(timestamptz).");
    }
    // UPDATE. An event leaving 'open' stops absorbing accesses in shared memory (even
    // if the update rolls back later: the next access then opens a new event).
    if (std::strcmp(table, "security_events") == 0) forget_if_closed(td);
    if (allowed) return PointerGetDatum(td->tg_newtuple);
    if (std::strcmp(table, "security_events") == 0) {
        TupleDesc desc = RelationGetDescr(rel);
        const auto before = phi::tuple_digest(phi::Source::SecurityEvents, td->tg_trigtuple, desc);
        const auto after = phi::tuple_digest(phi::Source::SecurityEvents, td->tg_newtuple, desc);
        const bool hash_kept = call([&] {
            const int col = SPI_fnumber(desc, "row_hash");
            bool n1 = false, n2 = false;
            Datum a = heap_getattr(td->tg_trigtuple, col, desc, &n1);
            Datum b = heap_getattr(td->tg_newtuple, col, desc, &n2);
            if (n1 || n2) return n1 == n2;
            return static_cast<bool>(datumIsEqual(a, b, false, -1));
        });
        if (before == after && hash_kept) return PointerGetDatum(td->tg_newtuple);
        throw Error(ErrorKind::InsufficientPrivilege, "only the triage columns of security.security_events can change",
                    "status, disposition, notes, incident_id, resolved_at and resolved_by may change; the other columns are hash-chained.",
                    "Use security.resolve_event(id, disposition, notes).");
    }
    throw Error(ErrorKind::InsufficientPrivilege, std::string("rows of security.") + table + " cannot be changed",
                "The audit trail is append-only and hash-chained, for every role including superusers.", "");
}

// security.seal_audit_chain() -> bigint
VLX_FUNCTION(vlx_seal_audit_chain) {
    spi::Connection conn;
    const std::int64_t n = phi::seal(true);
    conn.finish();
    return Int64GetDatum(n);
}

namespace {

struct Verdict {
    bool intact = true;
    std::int64_t rows_checked = 0;
    std::optional<std::int64_t> first_broken;
};

Verdict walk_chain() {
    Verdict v;
    static spi::Statement anchor("SELECT a.link FROM security.audit_chain_anchor AS a", {});
    spi::Args none(0);
    vlx::core::Sha256Digest start = vlx::core::audit::genesis();
    {
        spi::Rows r = spi::execute(anchor, none, SPI_OK_SELECT);
        if (!r.empty()) start = phi::digest_of(*r.get(0, 1));
    }
    static spi::Statement walk(
        "SELECT c.seq, c.source, c.row_id, c.row_hash, c.link, c.purged,"
        "       a.id IS NOT NULL, a.id, a.occurred_at, a.user_id, a.user_email, a.session_id, a.action,"
        "       a.entity_type, a.entity_id, a.patient_id, a.practice_id, a.ip_address, a.details, a.recorded_at,"
        "       e.id IS NOT NULL, e.id, e.event_type, e.severity, e.user_id, e.email, e.ip_address,"
        "       e.attempt_count, e.details, e.occurred_at"
        "  FROM security.audit_chain AS c"
        "  LEFT JOIN security.audit_logs AS a ON c.source = 1 AND a.id = c.row_id"
        "  LEFT JOIN security.security_events AS e ON c.source = 2 AND e.id = c.row_id"
        " ORDER BY c.seq",
        {});
    vlx::core::audit::ChainWalker walker(start);
    Portal portal = call([&] { return SPI_cursor_open(nullptr, walk.plan(), nullptr, nullptr, false); });
    const std::size_t na = phi::columns(phi::Source::AuditLogs).size();
    const std::size_t ne = phi::columns(phi::Source::SecurityEvents).size();
    for (;;) {
        call([&] { SPI_cursor_fetch(portal, true, 2000); });
        const std::uint64_t n = SPI_processed;
        if (n == 0) break;
        spi::Rows rows(SPI_tuptable, n);
        for (std::uint64_t i = 0; i < n; ++i) {
            vlx::core::audit::ChainEntry entry;
            const std::int16_t source = DatumGetInt16(*rows.get(i, 2));
            const std::int64_t row_id = DatumGetInt64(*rows.get(i, 3));
            entry.stored_row_hash = phi::digest_of(*rows.get(i, 4));
            entry.stored_link = phi::digest_of(*rows.get(i, 5));
            const bool purged = DatumGetBool(*rows.get(i, 6));
            if (purged) {
                entry.actual_row_hash = entry.stored_row_hash;
            } else {
                const bool audit = source == 1;
                const int present_col = audit ? 7 : 8 + static_cast<int>(na);
                entry.row_present = DatumGetBool(*rows.get(i, present_col));
                if (entry.row_present) {
                    std::vector<std::optional<Datum>> values(audit ? na : ne);
                    for (std::size_t k = 0; k < values.size(); ++k) values[k] = rows.get(i, present_col + 1 + static_cast<int>(k));
                    entry.actual_row_hash =
                        phi::row_digest(audit ? phi::Source::AuditLogs : phi::Source::SecurityEvents, values);
                }
            }
            ++v.rows_checked;
            if (!walker.step(entry) && !v.first_broken) v.first_broken = row_id;
        }
        call([&] { SPI_freetuptable(SPI_tuptable); });
    }
    call([&] { SPI_cursor_close(portal); });
    // Rows nobody chained or queued: inserted with the triggers bypassed.
    static spi::Statement unchained(
        "SELECT pg_catalog.min(x) FROM ("
        "  SELECT pg_catalog.min(a.id) AS x FROM security.audit_logs AS a"
        "   WHERE NOT EXISTS (SELECT 1 FROM security.audit_chain AS c WHERE c.source = 1 AND c.row_id = a.id)"
        "     AND NOT EXISTS (SELECT 1 FROM security.audit_seal_queue AS q WHERE q.source = 1 AND q.row_id = a.id)"
        "  UNION ALL"
        "  SELECT pg_catalog.min(e.id) FROM security.security_events AS e"
        "   WHERE NOT EXISTS (SELECT 1 FROM security.audit_chain AS c WHERE c.source = 2 AND c.row_id = e.id)"
        "     AND NOT EXISTS (SELECT 1 FROM security.audit_seal_queue AS q WHERE q.source = 2 AND q.row_id = e.id)"
        ") AS u",
        {});
    spi::Rows u = spi::execute(unchained, none, SPI_OK_SELECT);
    v.intact = walker.intact();
    if (auto id = u.get(0, 1)) {
        v.intact = false;
        if (!v.first_broken) v.first_broken = DatumGetInt64(*id);
    }
    // A row chained twice (audit_chain_row_key refuses it; a change with the triggers and
    // the constraint bypassed, or a dropped constraint, would not).
    static spi::Statement twice(
        "SELECT pg_catalog.min(d.row_id) FROM (SELECT c.row_id FROM security.audit_chain AS c"
        "  GROUP BY c.source, c.row_id HAVING pg_catalog.count(*) > 1) AS d",
        {});
    spi::Rows t = spi::execute(twice, none, SPI_OK_SELECT);
    if (auto id = t.get(0, 1)) {
        v.intact = false;
        if (!v.first_broken) v.first_broken = DatumGetInt64(*id);
    }
    return v;
}

}  // namespace

// security.verify_audit_chain(OUT intact, OUT rows_checked, OUT first_broken_id)
VLX_FUNCTION(vlx_verify_audit_chain) {
    TupleDesc desc = call([&] {
        TupleDesc d;
        if (get_call_result_type(fcinfo, nullptr, &d) != TYPEFUNC_COMPOSITE) elog(ERROR, "composite result expected");
        return BlessTupleDesc(d);
    });
    spi::Connection conn;
    {
        phi::ExtensionWrite write;
        phi::seal(true);
    }
    const Verdict v = walk_chain();
    conn.finish();
    return call([&] {
        Datum values[3] = {BoolGetDatum(v.intact), Int64GetDatum(v.rows_checked),
                           Int64GetDatum(v.first_broken.value_or(0))};
        bool nulls[3] = {false, false, !v.first_broken.has_value()};
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}

// security.purge_audit_before(before timestamptz) -> bigint
VLX_FUNCTION(vlx_purge_audit_before) {
    const Datum before = vlx::pg::datum::require_arg(fcinfo, 0, "before");
    spi::Connection conn;
    phi::ExtensionWrite write;
    phi::seal(true);
    static spi::Statement purge(
        "WITH d AS (DELETE FROM security.audit_logs AS a WHERE a.occurred_at < $1 RETURNING a.id),"
        " m AS (UPDATE security.audit_chain AS c SET purged = true FROM d"
        "        WHERE c.source = 1 AND c.row_id = d.id RETURNING c.seq)"
        " SELECT (SELECT pg_catalog.count(*) FROM d), (SELECT pg_catalog.count(*) FROM m)",
        {TIMESTAMPTZOID});
    spi::Args args(1);
    args.set(0, before);
    spi::Rows r = spi::execute(purge, args, SPI_OK_SELECT);
    const std::int64_t deleted = DatumGetInt64(*r.get(0, 1));
    // Fold the fully purged prefix of the chain into the anchor.
    static spi::Statement fold(
        "WITH p AS (SELECT c.seq, c.link FROM security.audit_chain AS c"
        "            WHERE c.seq < coalesce((SELECT pg_catalog.min(k.seq) FROM security.audit_chain AS k"
        "                                     WHERE NOT k.purged), 9223372036854775807)"
        "            ORDER BY c.seq DESC LIMIT 1),"
        " a AS (INSERT INTO security.audit_chain_anchor AS x (id, seq, link, purged_before)"
        "        SELECT 1, p.seq, p.link, $1 FROM p"
        "        ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, link = excluded.link,"
        "           purged_before = GREATEST(x.purged_before, excluded.purged_before), created_at = pg_catalog.now()"
        "        RETURNING x.seq)"
        " DELETE FROM security.audit_chain AS c USING a WHERE c.seq <= a.seq",
        {TIMESTAMPTZOID});
    spi::execute(fold, args, SPI_OK_DELETE);
    // The rule state of the purged period goes too: rate buckets that end a window before
    // the cutoff, daily rollups of days that end a day before it (a local day may run up
    // to a day past its UTC date). Open-event state stays with its events.
    static spi::Statement state(
        "WITH r AS (DELETE FROM security.phi_rate_state AS s WHERE s.bucket < $1 RETURNING 1),"
        " d AS (DELETE FROM security.phi_daily AS s WHERE s.day < $2 RETURNING 1),"
        " p AS (DELETE FROM security.phi_daily_patients AS s WHERE s.day < $2 RETURNING 1)"
        " SELECT (SELECT pg_catalog.count(*) FROM r), (SELECT pg_catalog.count(*) FROM d), (SELECT pg_catalog.count(*) FROM p)",
        {INT8OID, DATEOID});
    const std::int64_t cutoff = DatumGetTimestampTz(before);
    const std::int64_t window = vlx::pg::settings::interval_us(Setting::PhiRateWindow);
    const std::int64_t cutoff_day = call([&] {
        return static_cast<std::int64_t>(DatumGetDateADT(DirectFunctionCall1(timestamptz_date, before)));
    });
    spi::Args sa(2);
    sa.set(0, Int64GetDatum(vlx::core::phi::floor_div(cutoff, window) - 1));
    sa.set(1, DateADTGetDatum(static_cast<DateADT>(cutoff_day - 1)));
    spi::execute(state, sa, SPI_OK_SELECT);
    conn.finish();
    return Int64GetDatum(deleted);
}
