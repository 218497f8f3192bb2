#include "pg/phi/pgx.hpp"

#include <set>

#include "core/audit/canonical.hpp"
#include "core/error.hpp"
#include "pg/spi.hpp"

namespace vlx::pg::phi {

using core::Error;
using core::ErrorKind;

Datum make_array(Oid elem, const std::vector<std::optional<Datum>>& values) {
    return call([&] {
        int16 typlen;
        bool typbyval;
        char typalign;
        get_typlenbyvalalign(elem, &typlen, &typbyval, &typalign);
        const int n = static_cast<int>(values.size());
        Datum* datums = static_cast<Datum*>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
        bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * (n > 0 ? n : 1)));
        for (int i = 0; i < n; ++i) {
            nulls[i] = !values[i].has_value();
            datums[i] = values[i].value_or(Datum(0));
        }
        int dims[1] = {n};
        int lbs[1] = {1};
        if (n == 0) return PointerGetDatum(construct_empty_array(elem));
        return PointerGetDatum(construct_md_array(datums, nulls, 1, dims, lbs, elem, typlen, typbyval, typalign));
    });
}

Datum uuid_datum(const Uuid& u) {
    return call([&] {
        auto* p = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
        std::memcpy(p->data, u.data(), 16);
        return UUIDPGetDatum(p);
    });
}

Uuid uuid_of(Datum d) {
    Uuid u;
    std::memcpy(u.data(), DatumGetUUIDP(d)->data, 16);
    return u;
}

Datum bytea_datum(const std::uint8_t* data, std::size_t size) {
    return call([&] {
        bytea* b = static_cast<bytea*>(palloc(VARHDRSZ + size));
        SET_VARSIZE(b, VARHDRSZ + size);
        if (size) std::memcpy(VARDATA(b), data, size);
        return PointerGetDatum(b);
    });
}

Datum digest_datum(const core::Sha256Digest& d) { return bytea_datum(d.data(), d.size()); }

core::Sha256Digest digest_of(Datum d) {
    core::Sha256Digest out{};
    call([&] {
        bytea* b = DatumGetByteaPP(d);
        if (VARSIZE_ANY_EXHDR(b) == out.size()) std::memcpy(out.data(), VARDATA_ANY(b), out.size());
    });
    return out;
}

const std::vector<ColSpec>& columns(Source source) {
    static const std::vector<ColSpec> audit = {
        {"id", ColType::Int8},          {"occurred_at", ColType::Tstz}, {"user_id", ColType::Uuid},
        {"user_email", ColType::Text},  {"session_id", ColType::Uuid},  {"action", ColType::Text},
        {"entity_type", ColType::Text}, {"entity_id", ColType::Text},   {"patient_id", ColType::Uuid},
        {"practice_id", ColType::Uuid}, {"ip_address", ColType::Inet},  {"details", ColType::Jsonb},
        {"recorded_at", ColType::Tstz}};
    // security_events: the immutable columns only. status, disposition, notes,
    // incident_id, resolved_at, resolved_by are the triage workflow (resolve_event).
    static const std::vector<ColSpec> events = {
        {"id", ColType::Int8},          {"event_type", ColType::Text}, {"severity", ColType::Text},
        {"user_id", ColType::Uuid},     {"email", ColType::Text},      {"ip_address", ColType::Inet},
        {"attempt_count", ColType::Int4}, {"details", ColType::Jsonb}, {"occurred_at", ColType::Tstz}};
    return source == Source::AuditLogs ? audit : events;
}

const char* table_tag(Source source) { return source == Source::AuditLogs ? "audit_logs" : "security_events"; }

core::Sha256Digest row_digest(Source source, const std::vector<std::optional<Datum>>& values) {
    const auto& cols = columns(source);
    if (values.size() != cols.size()) throw Error(ErrorKind::Internal, "canonical row: column count mismatch");
    core::audit::CanonicalRow row(table_tag(source));
    call([&] {
        for (std::size_t i = 0; i < cols.size(); ++i) {
            if (!values[i]) {
                row.null();
                continue;
            }
            const Datum d = *values[i];
            switch (cols[i].type) {
                case ColType::Int8: row.integer(DatumGetInt64(d)); break;
                case ColType::Int4: row.integer(DatumGetInt32(d)); break;
                case ColType::Tstz: row.integer(DatumGetTimestampTz(d)); break;
                case ColType::Uuid: row.bytes(core::ByteView(DatumGetUUIDP(d)->data, 16)); break;
                case ColType::Text: {
                    text* t = DatumGetTextPP(d);
                    row.bytes(core::ByteView(reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(t)),
                                             VARSIZE_ANY_EXHDR(t)));
                    break;
                }
                case ColType::Inet: {
                    char* s = DatumGetCString(DirectFunctionCall1(inet_out, d));
                    row.bytes(core::ByteView(s));
                    break;
                }
                case ColType::Jsonb: {
                    Jsonb* jb = DatumGetJsonbP(d);
                    char* s = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
                    row.bytes(core::ByteView(s));
                    break;
                }
            }
        }
    });
    return row.digest();
}

core::Sha256Digest tuple_digest(Source source, HeapTuple tuple, TupleDesc desc) {
    const auto& cols = columns(source);
    std::vector<std::optional<Datum>> values(cols.size());
    call([&] {
        for (std::size_t i = 0; i < cols.size(); ++i) {
            const int attnum = SPI_fnumber(desc, cols[i].name);
            if (attnum <= 0) elog(ERROR, "chained column \"%s\" is missing", cols[i].name);
            bool isnull = false;
            const Datum d = heap_getattr(tuple, attnum, desc, &isnull);
            if (!isnull) values[i] = d;
        }
    });
    return row_digest(source, values);
}

namespace {
bool g_extension_write = false;
std::set<std::pair<int, std::int64_t>> g_restored;
}

void note_restored(Source source, std::int64_t id) { g_restored.emplace(static_cast<int>(source), id); }

bool take_restored(Source source, std::int64_t id) {
    if (g_restored.empty()) return false;
    return g_restored.erase({static_cast<int>(source), id}) > 0;
}

bool extension_write_active() { return g_extension_write; }
ExtensionWrite::ExtensionWrite() : previous_(g_extension_write) { g_extension_write = true; }
ExtensionWrite::~ExtensionWrite() { g_extension_write = previous_; }

namespace {
constexpr std::int64_t kSealBatch = 10000;
}

std::int64_t seal(bool wait) {
    if (XactIsoLevel != XACT_READ_COMMITTED) {
        if (!wait) return 0;
        throw Error(ErrorKind::ConfigurationMissing, "sealing the audit chain needs a READ COMMITTED transaction",
                    "Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot may predate the chain's head.",
                    "Run it outside an explicit REPEATABLE READ / SERIALIZABLE transaction.");
    }
    static spi::Statement try_lock("SELECT pg_catalog.pg_try_advisory_xact_lock(1986, 7)", {});
    static spi::Statement lock("SELECT pg_catalog.pg_advisory_xact_lock(1986, 7)", {});
    spi::Args none(0);
    if (wait) {
        spi::execute(lock, none, SPI_OK_SELECT);
    } else {
        spi::Rows r = spi::execute(try_lock, none, SPI_OK_SELECT);
        if (!DatumGetBool(*r.get(0, 1))) return 0;
    }
    // After the lock, in a new statement (a new READ COMMITTED snapshot): every chain
    // row a previous sealer committed is visible, so the head read is the real head.
    static spi::Statement take(
        "WITH q AS (DELETE FROM security.audit_seal_queue AS d"
        "            WHERE d.ctid = ANY (ARRAY(SELECT x.ctid FROM security.audit_seal_queue AS x LIMIT $1))"
        "            RETURNING d.source, d.row_id) "
        "SELECT q.source, q.row_id, CASE q.source"
        "  WHEN 1 THEN (SELECT a.row_hash FROM security.audit_logs AS a WHERE a.id = q.row_id)"
        "  ELSE (SELECT e.row_hash FROM security.security_events AS e WHERE e.id = q.row_id) END"
        "  FROM q WHERE NOT EXISTS (SELECT 1 FROM security.audit_chain AS c"
        "                            WHERE c.source = q.source AND c.row_id = q.row_id)"
        " ORDER BY q.source, q.row_id",
        {INT8OID});
    std::int64_t total = 0;
    for (;;) {
    spi::Args limit(1);
    limit.set(0, Int64GetDatum(kSealBatch));
    spi::Rows queued = spi::execute(take, limit, SPI_OK_SELECT);
    if (queued.empty()) return total;
    struct Item {
        std::int16_t source;
        std::int64_t row_id;
        core::Sha256Digest row_hash;
    };
    std::vector<Item> items;
    items.reserve(queued.size());
    for (std::uint64_t i = 0; i < queued.size(); ++i) {
        Item it{DatumGetInt16(*queued.get(i, 1)), DatumGetInt64(*queued.get(i, 2)), core::Sha256Digest{}};
        if (auto h = queued.get(i, 3)) it.row_hash = digest_of(*h);  // missing row: zeros, verify flags it
        items.push_back(it);
    }
    static spi::Statement head(
        "SELECT coalesce((SELECT c.seq FROM security.audit_chain AS c ORDER BY c.seq DESC LIMIT 1),"
        "                (SELECT a.seq FROM security.audit_chain_anchor AS a), 0),"
        "       coalesce((SELECT c.link FROM security.audit_chain AS c ORDER BY c.seq DESC LIMIT 1),"
        "                (SELECT a.link FROM security.audit_chain_anchor AS a))",
        {});
    spi::Rows h = spi::execute(head, none, SPI_OK_SELECT);
    std::int64_t seq = DatumGetInt64(*h.get(0, 1));
    core::Sha256Digest link = core::audit::genesis();
    if (auto l = h.get(0, 2)) link = digest_of(*l);

    std::vector<std::optional<Datum>> seqs, sources, ids, hashes, links;
    for (const Item& it : items) {
        link = core::audit::chain_link(link, it.row_hash);
        seqs.push_back(Int64GetDatum(++seq));
        sources.push_back(Int16GetDatum(it.source));
        ids.push_back(Int64GetDatum(it.row_id));
        hashes.push_back(digest_datum(it.row_hash));
        links.push_back(digest_datum(link));
    }
    static spi::Statement append(
        "INSERT INTO security.audit_chain (seq, source, row_id, row_hash, link) "
        "SELECT * FROM ROWS FROM (pg_catalog.unnest($1::int8[]), pg_catalog.unnest($2::int2[]), pg_catalog.unnest($3::int8[]), pg_catalog.unnest($4::bytea[]), pg_catalog.unnest($5::bytea[]))",
        {INT8ARRAYOID, INT2ARRAYOID, INT8ARRAYOID, BYTEAARRAYOID, BYTEAARRAYOID});
    spi::Args args(5);
    args.set(0, make_array(INT8OID, seqs));
    args.set(1, make_array(INT2OID, sources));
    args.set(2, make_array(INT8OID, ids));
    args.set(3, make_array(BYTEAOID, hashes));
    args.set(4, make_array(BYTEAOID, links));
    spi::execute(append, args, SPI_OK_INSERT);
    total += static_cast<std::int64_t>(items.size());
    // An insert pays for one batch at most; verify and purge (wait) seal everything.
    if (!wait || items.size() < static_cast<std::size_t>(kSealBatch)) return total;
    }
}

std::string iso_utc(std::int64_t ts) {
    struct pg_tm tm;
    fsec_t fsec;
    if (timestamp2tm(ts, nullptr, &tm, &fsec, nullptr, nullptr) != 0) return "";
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    return buf;
}

}  // namespace vlx::pg::phi
