// Tamper evidence (SPEC §3): the row-hash and guard triggers, the seal queue for
// security_events, security.seal_audit_chain, security.verify_audit_chain and
// security.purge_audit_before.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "core/audit/canonical.hpp"
#include "core/error.hpp"
#include "core/phi/rules.hpp"
#include "core/settings_catalog.hpp"
#include "pg/datum.hpp"
#include "pg/phi/chain_store.hpp"
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

// What each entry's row is now: fetched per block, hashed as the sealer hashed it.
std::vector<vlx::core::audit::RowCheck> check_rows(const vlx::core::audit::StoredBlock& block) {
    // (the columns of columns(Source), in its order)
    static spi::Statement audit_rows(
        "SELECT a.id, a.occurred_at, a.user_id, a.user_email, a.session_id, a.action, a.entity_type,"
        "       a.entity_id, a.patient_id, a.practice_id, a.ip_address, a.details, a.recorded_at"
        "  FROM security.audit_logs AS a WHERE a.id = ANY ($1::int8[])",
        {INT8ARRAYOID});
    static spi::Statement event_rows(
        "SELECT e.id, e.event_type, e.severity, e.user_id, e.email, e.ip_address,"
        "       e.attempt_count, e.details, e.occurred_at"
        "  FROM security.security_events AS e WHERE e.id = ANY ($1::int8[])",
        {INT8ARRAYOID});
    std::vector<vlx::core::audit::RowCheck> checks(block.entries.size(), vlx::core::audit::RowCheck{false, {}});
    for (const phi::Source source : {phi::Source::AuditLogs, phi::Source::SecurityEvents}) {
        std::unordered_map<std::int64_t, std::size_t> where;
        std::vector<std::optional<Datum>> ids;
        for (std::size_t i = 0; i < block.entries.size(); ++i) {
            const auto& e = block.entries[i];
            if (e.source != static_cast<std::int16_t>(source) || e.purged) continue;
            where.emplace(e.row_id, i);
            ids.emplace_back(Int64GetDatum(e.row_id));
        }
        if (ids.empty()) continue;
        spi::Args a(1);
        a.set(0, phi::make_array(INT8OID, ids));
        spi::Rows rows = spi::execute(source == phi::Source::AuditLogs ? audit_rows : event_rows, a, SPI_OK_SELECT);
        const std::size_t ncols = phi::columns(source).size();
        std::vector<std::optional<Datum>> values(ncols);
        for (std::uint64_t r = 0; r < rows.size(); ++r) {
            for (std::size_t k = 0; k < ncols; ++k) values[k] = rows.get(r, static_cast<int>(k) + 1);
            auto it = where.find(DatumGetInt64(*values[0]));
            if (it == where.end()) continue;
            checks[it->second] = vlx::core::audit::RowCheck{true, phi::row_digest(source, values)};
        }
        call([] { SPI_freetuptable(SPI_tuptable); });
    }
    return checks;
}

// The smallest id of the table that neither the chain (sorted ids) nor the seal queue
// holds: a row inserted with the triggers bypassed. One ordered pass over the primary key.
std::optional<std::int64_t> first_unchained(phi::Source source, const std::vector<std::int64_t>& chained) {
    static spi::Statement queued(
        "SELECT q.row_id FROM security.audit_seal_queue AS q WHERE q.source = $1", {INT2OID});
    static spi::Statement audit_ids("SELECT a.id FROM security.audit_logs AS a ORDER BY a.id", {});
    static spi::Statement event_ids("SELECT e.id FROM security.security_events AS e ORDER BY e.id", {});
    std::set<std::int64_t> in_queue;
    {
        spi::Args a(1);
        a.set(0, Int16GetDatum(static_cast<std::int16_t>(source)));
        spi::Rows r = spi::execute(queued, a, SPI_OK_SELECT);
        for (std::uint64_t i = 0; i < r.size(); ++i) in_queue.insert(DatumGetInt64(*r.get(i, 1)));
        call([] { SPI_freetuptable(SPI_tuptable); });
    }
    spi::Statement& ids = source == phi::Source::AuditLogs ? audit_ids : event_ids;
    Portal portal = call([&] { return SPI_cursor_open(nullptr, ids.plan(), nullptr, nullptr, false); });
    std::optional<std::int64_t> found;
    auto next_chained = chained.begin();
    while (!found) {
        const std::uint64_t n = call([&] {
            SPI_cursor_fetch(portal, true, 10000);
            return SPI_processed;
        });
        if (n == 0) break;
        spi::Rows rows(SPI_tuptable, n);
        for (std::uint64_t i = 0; i < n && !found; ++i) {
            const std::int64_t id = DatumGetInt64(*rows.get(i, 1));
            while (next_chained != chained.end() && *next_chained < id) ++next_chained;
            if ((next_chained == chained.end() || *next_chained != id) && !in_queue.count(id)) found = id;
        }
        call([] { SPI_freetuptable(SPI_tuptable); });
    }
    call([&] { SPI_cursor_close(portal); });
    return found;
}

std::optional<std::int64_t> min_of(std::optional<std::int64_t> a, std::optional<std::int64_t> b) {
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
}

// Walks the blocks from the anchor: every entry's row hashed again, every link recomputed.
// Then the rows nobody chained or queued, then rows chained twice (the sealer never does;
// a block written behind its back could).
Verdict walk_chain() {
    Verdict v;
    const auto [start_seq, start_link] = phi::chain::start();
    vlx::core::audit::BlockWalker walker(start_link, start_seq);
    std::vector<std::int64_t> chained[2];  // audit_logs, security_events
    phi::chain::for_each_block(std::nullopt, [&](const phi::chain::Block& b) {
        const auto broken = walker.step(b.stored, check_rows(b.stored));
        if (broken && !v.first_broken && *broken < b.stored.entries.size())
            v.first_broken = b.stored.entries[*broken].row_id;
        for (const auto& e : b.stored.entries) chained[e.source - 1].push_back(e.row_id);
        return true;
    });
    v.rows_checked = walker.entries_walked();
    v.intact = walker.intact();
    std::optional<std::int64_t> twice;
    for (auto& ids : chained) {
        std::sort(ids.begin(), ids.end());
        const auto dup = std::adjacent_find(ids.begin(), ids.end());
        if (dup != ids.end()) twice = min_of(twice, *dup);
    }
    const std::optional<std::int64_t> unchained =
        min_of(first_unchained(phi::Source::AuditLogs, chained[0]), first_unchained(phi::Source::SecurityEvents, chained[1]));
    for (const auto& extra : {unchained, twice}) {
        if (!extra) continue;
        v.intact = false;
        if (!v.first_broken) v.first_broken = *extra;
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

namespace {

// The chain entries of rows the purge deleted become purged links (their stored hash
// stands in for the row); a block's unpurged count says when it can fold into the anchor.
void mark_purged(std::vector<std::int64_t> ids) {
    if (ids.empty()) return;
    std::sort(ids.begin(), ids.end());
    struct Change {
        std::int64_t seq_first;
        std::string entries;
        std::int32_t unpurged;
    };
    std::vector<Change> changes;
    phi::chain::for_each_block(std::make_pair(ids.front(), ids.back()), [&](const phi::chain::Block& b) {
        std::vector<vlx::core::audit::BlockEntry> entries = b.stored.entries;
        bool changed = false;
        std::int32_t unpurged = 0;
        for (auto& e : entries) {
            if (!e.purged && e.source == static_cast<std::int16_t>(phi::Source::AuditLogs) &&
                std::binary_search(ids.begin(), ids.end(), e.row_id)) {
                e.purged = true;
                changed = true;
            }
            if (!e.purged) ++unpurged;
        }
        if (changed) changes.push_back(Change{b.stored.seq_first, vlx::core::audit::encode_block(entries), unpurged});
        return true;
    });
    static spi::Statement update(
        "UPDATE security.audit_chain_block AS b SET entries = $2, unpurged = $3 WHERE b.seq_first = $1",
        {INT8OID, BYTEAOID, INT4OID});
    for (const Change& c : changes) {
        spi::Args a(3);
        a.set(0, Int64GetDatum(c.seq_first));
        a.set(1, phi::bytea_datum(reinterpret_cast<const std::uint8_t*>(c.entries.data()), c.entries.size()));
        a.set(2, Int32GetDatum(c.unpurged));
        spi::execute(update, a, SPI_OK_UPDATE);
    }
}

}  // namespace

// security.purge_audit_before(before timestamptz) -> bigint
VLX_FUNCTION(vlx_purge_audit_before) {
    const Datum before = vlx::pg::datum::require_arg(fcinfo, 0, "before");
    spi::Connection conn;
    phi::ExtensionWrite write;
    phi::seal(true);
    static spi::Statement purge(
        "DELETE FROM security.audit_logs AS a WHERE a.occurred_at < $1 RETURNING a.id", {TIMESTAMPTZOID});
    spi::Args args(1);
    args.set(0, before);
    std::vector<std::int64_t> deleted_ids;
    {
        spi::Rows r = spi::execute(purge, args, SPI_OK_DELETE_RETURNING);
        deleted_ids.reserve(r.size());
        for (std::uint64_t i = 0; i < r.size(); ++i) deleted_ids.push_back(DatumGetInt64(*r.get(i, 1)));
        call([] { SPI_freetuptable(SPI_tuptable); });
    }
    const auto deleted = static_cast<std::int64_t>(deleted_ids.size());
    mark_purged(deleted_ids);
    phi::chain::fold_purged_prefix(before);
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
