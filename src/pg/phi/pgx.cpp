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
    static core::audit::CanonicalRow row("");  // reused: no allocation per row
    row.reset(table_tag(source));
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
                    if (JB_ROOT_IS_OBJECT(jb) && JB_ROOT_COUNT(jb) == 0) {  // '{}', the usual details
                        row.bytes(core::ByteView("{}"));
                        break;
                    }
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
