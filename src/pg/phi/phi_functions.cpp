// The application's PHI functions (SPEC §3): security.log_phi_access,
// security.phi_accessed_patients, security.export_user_audit.
#include "core/error.hpp"
#include "pg/datum.hpp"
#include "pg/phi/pgx.hpp"
#include "pg/spi.hpp"

namespace spi = vlx::pg::spi;
namespace datum = vlx::pg::datum;
using vlx::pg::call;
using vlx::core::Error;
using vlx::core::ErrorKind;

namespace {

bool is_patient_action(const std::string& action) {
    return action.rfind("patient_", 0) == 0 || action.rfind("prescription_", 0) == 0;
}

// [from, to): NULL bounds are open.
Datum bound(FunctionCallInfo fcinfo, int n, bool lower) {
    if (auto v = datum::arg(fcinfo, n)) return *v;
    return TimestampTzGetDatum(lower ? DT_NOBEGIN : DT_NOEND);
}

}  // namespace

// security.log_phi_access(user_id, patient_id, action, entity_type, entity_id, practice_id,
//                         session_id, ip, details, occurred_at) -> bigint
VLX_FUNCTION(vlx_log_phi_access) {
    const Datum user = datum::require_arg(fcinfo, 0, "user_id");
    const std::optional<Datum> patient = datum::arg(fcinfo, 1);
    const std::string action = datum::require_nonblank(fcinfo, 2, "action");
    if (!patient && is_patient_action(action))
        throw Error(ErrorKind::NullValue, "patient_id must not be null for action \"" + action + "\"",
                    "Patient and prescription actions must name the patient whose PHI was accessed.", "");
    static spi::Statement insert(
        "INSERT INTO security.audit_logs (occurred_at, user_id, user_email, session_id, action, entity_type,"
        "                                 entity_id, patient_id, practice_id, ip_address, details)"
        " SELECT coalesce($10, security.now()), $1, acc.email, $7, $3, $4, $5, $2, $6, $8,"
        "        coalesce($9, '{}'::jsonb) OPERATOR(pg_catalog.||)"
        "        CASE WHEN acc.user_id IS NULL THEN '{\"unknown_user\": true}'::jsonb ELSE '{}'::jsonb END"
        "   FROM (SELECT 1) AS one LEFT JOIN security.accounts AS acc ON acc.user_id = $1"
        " RETURNING id",
        {UUIDOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, UUIDOID, UUIDOID, INETOID, JSONBOID, TIMESTAMPTZOID});
    spi::Args args(10);
    args.set(0, user);
    for (int i = 1; i < 10; ++i)
        if (i == 2) args.set(2, datum::make_text(action));
        else if (auto v = datum::arg(fcinfo, i)) args.set(i, *v);
    spi::Connection conn;
    spi::Rows r = spi::execute(insert, args, SPI_OK_INSERT_RETURNING);
    const std::int64_t id = DatumGetInt64(*r.get(0, 1));
    conn.finish();
    return Int64GetDatum(id);
}

namespace {

// Runs `statement` with (user, from, to) and returns its rows as the function's result set.
Datum materialize(FunctionCallInfo fcinfo, spi::Statement& statement) {
    const Datum user = datum::require_arg(fcinfo, 0, "user_id");
    const Datum from = bound(fcinfo, 1, true);
    const Datum to = bound(fcinfo, 2, false);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    call([&] {
        if (!rsinfo || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("set-valued function called in context that cannot accept a set")));
        MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) {
            desc = CreateTemplateTupleDesc(1);  // SETOF a scalar (jsonb)
            TupleDescInitEntry(desc, 1, "value", get_fn_expr_rettype(fcinfo->flinfo), -1, 0);
        }
        rsinfo->returnMode = SFRM_Materialize;
        rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
        rsinfo->setDesc = CreateTupleDescCopy(desc);
        MemoryContextSwitchTo(old);
    });
    spi::Connection conn;
    spi::Args args(3);
    args.set(0, user).set(1, from).set(2, to);
    spi::Rows rows = spi::execute(statement, args, SPI_OK_SELECT);
    const int ncols = call([&] { return rsinfo->setDesc->natts; });
    std::vector<Datum> values(ncols);
    std::vector<bool> nulls(ncols);
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        for (int c = 0; c < ncols; ++c) {
            auto v = rows.get(i, c + 1);
            nulls[c] = !v;
            values[c] = v.value_or(Datum(0));
        }
        call([&] {
            bool n[16];
            for (int c = 0; c < ncols && c < 16; ++c) n[c] = nulls[c];
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values.data(), n);
        });
    }
    conn.finish();
    return Datum(0);
}

}  // namespace

// security.phi_accessed_patients(user_id, from, to): one row per patient touched.
VLX_FUNCTION(vlx_phi_accessed_patients) {
    static spi::Statement patients(
        "SELECT l.patient_id,"
        "       (pg_catalog.array_agg(l.practice_id ORDER BY l.occurred_at DESC, l.id DESC)"
        "            FILTER (WHERE l.practice_id IS NOT NULL))[1],"
        "       pg_catalog.count(*), pg_catalog.min(l.occurred_at), pg_catalog.max(l.occurred_at),"
        "       pg_catalog.array_agg(DISTINCT l.action ORDER BY l.action)"
        "  FROM security.audit_logs AS l"
        " WHERE l.user_id = $1 AND l.patient_id IS NOT NULL"
        "   AND l.occurred_at >= $2 AND l.occurred_at < $3"
        " GROUP BY l.patient_id"
        " ORDER BY pg_catalog.min(l.occurred_at), l.patient_id",
        {UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID});
    return materialize(fcinfo, patients);
}

// security.export_user_audit(user_id, from, to) -> setof jsonb
VLX_FUNCTION(vlx_export_user_audit) {
    static spi::Statement rows(
        "WITH l AS MATERIALIZED (SELECT * FROM security.audit_logs AS x"
        "                         WHERE x.user_id = $1 AND x.occurred_at >= $2 AND x.occurred_at < $3)"
        "SELECT pg_catalog.jsonb_build_object("
        "         'id', l.id, 'occurred_at', l.occurred_at, 'recorded_at', l.recorded_at,"
        "         'user_id', l.user_id, 'user_email', l.user_email, 'session_id', l.session_id,"
        "         'action', l.action, 'entity_type', l.entity_type, 'entity_id', l.entity_id,"
        "         'patient_id', l.patient_id, 'practice_id', l.practice_id, 'ip_address', l.ip_address,"
        "         'details', l.details,"
        "         'row_hash', pg_catalog.encode(c.row_hash, 'hex'),"
        "         'chain_seq', c.seq,"
        "         'previous_link', pg_catalog.encode(c.previous_link, 'hex'),"
        "         'chain_link', pg_catalog.encode(c.link, 'hex'),"
        "         'sealed_at', c.sealed_at)"
        "  FROM l LEFT JOIN security._audit_chain_entries((SELECT coalesce(pg_catalog.array_agg(y.id), '{}') FROM l AS y)) AS c"
        "         ON c.source = 1 AND c.row_id = l.id"
        " ORDER BY l.id",
        {UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID});
    return materialize(fcinfo, rows);
}
