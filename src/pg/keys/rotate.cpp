// CALL security.rotate_keys(purpose, batch_size), security.verify_key_rotation(),
// security.rewrap_keys(old_master_key_hex) (SPEC §4).
//
// rotate_keys is a procedure that commits after every batch, so it cannot be SECURITY
// DEFINER (PostgreSQL runs those atomically): each batch runs inside an OwnerScope (the
// procedure owner's rights, search_path pinned) that ends before the commit. A batch
// locks at most batch_size rows (FOR UPDATE SKIP LOCKED, keyset pagination on the row
// key), re-encrypts those not on the new key yet, writes them in one UPDATE and records
// its progress in the same transaction, so a cancel, an error or a crash loses at most
// the batch in flight and the next CALL resumes where the last commit left off.
#include "pg/boundary.hpp"

#include <set>

#include "core/crypto/envelope.hpp"
#include "core/crypto/key_wrap.hpp"
#include "core/error.hpp"
#include "core/keys/key_policy.hpp"
#include "pg/datum.hpp"
#include "pg/keys/keyring.hpp"
#include "pg/keys/protect.hpp"
#include "pg/keys/varlena.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "catalog/namespace.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}
#pragma GCC diagnostic pop

namespace keys = vlx::pg::keys;
namespace spi = vlx::pg::spi;
namespace datum = vlx::pg::datum;
namespace kp = vlx::core::keys;
using vlx::core::Error;
using vlx::core::ErrorKind;
using vlx::pg::call;

namespace {

struct Column {
    std::int64_t id = 0;
    std::string schema, table, column, key_column, column_type;
    int phase = 2;
    std::optional<std::string> last_key;
};

struct Plan {
    SPIPlanPtr first = nullptr;  // no lower bound
    SPIPlanPtr next = nullptr;   // key > $1
    SPIPlanPtr update = nullptr;
    ~Plan() = default;
};

void free_plan(Plan& p) {
    call([&] {
        if (p.first) SPI_freeplan(p.first);
        if (p.next) SPI_freeplan(p.next);
        if (p.update) SPI_freeplan(p.update);
    });
    p = Plan{};
}

SPIPlanPtr prepare(const std::string& sql, std::vector<Oid> types) {
    return call([&] {
        SPIPlanPtr plan = SPI_prepare(sql.c_str(), static_cast<int>(types.size()), types.data());
        if (!plan) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        if (SPI_keepplan(plan) != 0) elog(ERROR, "SPI_keepplan failed");
        return plan;
    });
}

Datum tid_array(const std::vector<Datum>& tids) {
    return call([&] {
        return PointerGetDatum(construct_array(const_cast<Datum*>(tids.data()), static_cast<int>(tids.size()), TIDOID,
                                               sizeof(ItemPointerData), false, TYPALIGN_SHORT));
    });
}

Datum value_array(const std::vector<std::vector<std::uint8_t>>& values, bool is_text) {
    std::vector<Datum> elems;
    elems.reserve(values.size());
    for (const auto& v : values)
        elems.push_back(is_text ? keys::text_datum(vlx::core::ByteView(vlx::core::armor(v))) : keys::bytea_datum(v));
    return call([&] {
        const Oid type = is_text ? TEXTOID : BYTEAOID;
        return PointerGetDatum(construct_array(elems.data(), static_cast<int>(elems.size()), type, -1, false, TYPALIGN_INT));
    });
}

class Rotation {
public:
    Rotation(FunctionCallInfo fcinfo, bool nonatomic, int batch) : fcinfo_(fcinfo), nonatomic_(nonatomic), batch_(batch) {}

    void commit() {
        if (nonatomic_) call([] { SPI_commit(); });
    }

    // Runs (or resumes) the rotation of one purpose. Returns values re-encrypted.
    std::int64_t run(const std::string& purpose);

private:
    std::int64_t start_or_resume(const std::string& purpose, std::uint32_t& new_key);
    std::int64_t rotate_column(Column& col, std::int64_t rotation_id, std::uint32_t new_key, int until_phase);
    std::int64_t remaining(const std::string& purpose, std::uint32_t new_key);

    FunctionCallInfo fcinfo_;
    bool nonatomic_;
    int batch_;
};

std::int64_t Rotation::start_or_resume(const std::string& purpose, std::uint32_t& new_key) {
    keys::LazySpi lazy(true);
    static spi::Statement running(
        "SELECT r.id, r.new_key_id, k.status FROM security.key_rotations r"
        "  LEFT JOIN security.encryption_keys k ON k.key_id OPERATOR(pg_catalog.=) r.new_key_id"
        " WHERE r.purpose OPERATOR(pg_catalog.=) $1 AND r.status OPERATOR(pg_catalog.=) 'running' FOR UPDATE OF r",
        {TEXTOID});
    static spi::Statement supersede(
        "UPDATE security.key_rotations SET status = 'superseded', finished_at = $2 WHERE id OPERATOR(pg_catalog.=) $1",
        {INT8OID, TIMESTAMPTZOID});
    static spi::Statement retire_active(
        "UPDATE security.encryption_keys SET status = 'retired', rotated_at = $2"
        " WHERE purpose OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.=) 'active'",
        {TEXTOID, TIMESTAMPTZOID});
    static spi::Statement insert_rotation(
        "INSERT INTO security.key_rotations (purpose, new_key_id, old_key_ids, started_at, started_by, batch_size)"
        " SELECT $1, $2, coalesce(pg_catalog.array_agg(k.key_id ORDER BY k.key_id), '{}'), $3, security.actor(), $4"
        "   FROM security.encryption_keys k"
        "  WHERE k.purpose OPERATOR(pg_catalog.=) $1 AND k.status OPERATOR(pg_catalog.=) ANY ('{retired,compromised}')"
        "    AND k.retired_at IS NULL"
        " RETURNING id",
        {TEXTOID, INT4OID, TIMESTAMPTZOID, INT4OID});
    static spi::Statement insert_progress(
        "INSERT INTO security.key_rotation_progress (rotation_id, protected_column_id, phase, updated_at)"
        " SELECT $1, c.id,"
        "        CASE WHEN EXISTS (SELECT 1 FROM security.encryption_keys k"
        "                           WHERE k.purpose OPERATOR(pg_catalog.=) $2"
        "                             AND k.status OPERATOR(pg_catalog.=) 'compromised') THEN 1 ELSE 2 END, $3"
        "   FROM security.protected_columns c WHERE c.purpose OPERATOR(pg_catalog.=) $2",
        {INT8OID, TEXTOID, TIMESTAMPTZOID});
    const std::int64_t now = keys::clock_now();
    spi::Args a(1);
    a.set(0, datum::make_text(purpose));
    {
        spi::Rows rows = spi::execute(running, a, SPI_OK_SELECT);
        if (!rows.empty()) {
            const std::int64_t id = DatumGetInt64(*rows.get(0, 1));
            const auto key = static_cast<std::uint32_t>(DatumGetInt32(*rows.get(0, 2)));
            auto status = rows.get(0, 3);
            if (status && datum::to_string(*status) == "active") {
                new_key = key;
                return id;
            }
            // Its new key was compromised (or is gone) meanwhile: start over with a new one.
            spi::Args s(2);
            s.set(0, Int64GetDatum(id)).set(1, TimestampTzGetDatum(now));
            spi::execute(supersede, s, SPI_OK_UPDATE);
        }
    }
    spi::Args r(2);
    r.set(0, datum::make_text(purpose)).set(1, TimestampTzGetDatum(now));
    spi::execute(retire_active, r, SPI_OK_UPDATE);
    new_key = keys::create_key(lazy, purpose);
    if (new_key == 0) throw Error(ErrorKind::Internal, "a concurrent session created an active key during rotation");
    spi::Args ir(4);
    ir.set(0, datum::make_text(purpose)).set(1, Int32GetDatum(static_cast<std::int32_t>(new_key)));
    ir.set(2, TimestampTzGetDatum(now)).set(3, Int32GetDatum(batch_));
    const std::int64_t id = DatumGetInt64(*spi::execute(insert_rotation, ir, SPI_OK_INSERT_RETURNING).get(0, 1));
    spi::Args ip(3);
    ip.set(0, Int64GetDatum(id)).set(1, datum::make_text(purpose)).set(2, TimestampTzGetDatum(now));
    spi::execute(insert_progress, ip, SPI_OK_INSERT);
    keys::keys_changed();
    return id;
}

std::int64_t Rotation::rotate_column(Column& col, std::int64_t rotation_id, std::uint32_t new_key, int until_phase) {
    static spi::Statement save_progress(
        "UPDATE security.key_rotation_progress SET phase = $3, last_key = $4,"
        "       values_reencrypted = values_reencrypted OPERATOR(pg_catalog.+) $5,"
        "       values_failed = values_failed OPERATOR(pg_catalog.+) $6, updated_at = $7,"
        "       compromised_reencrypted = compromised_reencrypted OPERATOR(pg_catalog.+) $8"
        " WHERE rotation_id OPERATOR(pg_catalog.=) $1 AND protected_column_id OPERATOR(pg_catalog.=) $2",
        {INT8OID, INT8OID, INT2OID, TEXTOID, INT8OID, INT8OID, TIMESTAMPTZOID, INT8OID});
    static spi::Statement save_rotation(
        "UPDATE security.key_rotations SET batches = batches OPERATOR(pg_catalog.+) 1,"
        "       values_reencrypted = values_reencrypted OPERATOR(pg_catalog.+) $2,"
        "       values_failed = values_failed OPERATOR(pg_catalog.+) $3, last_progress_at = $4"
        " WHERE id OPERATOR(pg_catalog.=) $1",
        {INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID});
    static spi::Statement count_key(
        "UPDATE security.encryption_keys SET encryptions = encryptions OPERATOR(pg_catalog.+) $2"
        " WHERE key_id OPERATOR(pg_catalog.=) $1",
        {INT4OID, INT8OID});
    static spi::Statement compromised_keys(
        "SELECT key_id FROM security.encryption_keys WHERE status OPERATOR(pg_catalog.=) 'compromised'", {});

    std::int64_t total = 0;
    Plan plan;
    Oid relid = InvalidOid;
    int attnum = 0;
    bool is_text = col.column_type == "text";
    std::string prefix;
    while (col.phase < 3 && col.phase <= until_phase) {
        keys::OwnerScope scope(fcinfo_);
        keys::LazySpi lazy(true);
        if (!plan.update) {
            // Resolve the table now, under pinned search_path; a dropped table ends its part.
            const std::string qualified = call([&] {
                return std::string(quote_identifier(col.schema.c_str())) + "." + quote_identifier(col.table.c_str());
            });
            relid = call([&] {
                Oid ns = get_namespace_oid(col.schema.c_str(), true);
                return ns == InvalidOid ? InvalidOid : get_relname_relid(col.table.c_str(), ns);
            });
            attnum = relid == InvalidOid ? 0 : call([&] { return static_cast<int>(get_attnum(relid, col.column.c_str())); });
            const int key_att = relid == InvalidOid ? 0 : call([&] { return static_cast<int>(get_attnum(relid, col.key_column.c_str())); });
            if (relid == InvalidOid || attnum <= 0 || key_att <= 0) {
                col.phase = 3;
                spi::Args pa(8);
                pa.set(0, Int64GetDatum(rotation_id)).set(1, Int64GetDatum(col.id)).set(2, Int16GetDatum(3));
                pa.set(4, Int64GetDatum(0)).set(5, Int64GetDatum(0)).set(6, TimestampTzGetDatum(keys::clock_now()));
                pa.set(7, Int64GetDatum(0));
                spi::execute(save_progress, pa, SPI_OK_UPDATE);
                scope.end();
                commit();
                break;
            }
            const std::string key_type = call([&] { return std::string(format_type_be(get_atttype(relid, key_att))); });
            const std::string qk = call([&] { return std::string(quote_identifier(col.key_column.c_str())); });
            const std::string qc = call([&] { return std::string(quote_identifier(col.column.c_str())); });
            const std::string select = "SELECT (t." + qk + ")::pg_catalog.text, t." + qc + ", t.ctid FROM ONLY " + qualified + " AS t";
            const std::string tail = " ORDER BY t." + qk + " LIMIT $2 FOR UPDATE OF t SKIP LOCKED";
            plan.first = prepare(select + " WHERE ($1::pg_catalog.text IS NULL OR true)" + tail, {TEXTOID, INT4OID});
            plan.next = prepare(select + " WHERE t." + qk + " OPERATOR(pg_catalog.>) ($1::pg_catalog.text)::" + key_type + tail,
                                {TEXTOID, INT4OID});
            // The rows are locked (FOR UPDATE) until the batch commits, so their ctids hold:
            // the update finds them by TID, no index descent.
            plan.update = prepare("UPDATE ONLY " + qualified + " AS t SET " + qc + " = v.val FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.tid[]), pg_catalog.unnest($2::" +
                                      std::string(is_text ? "pg_catalog.text" : "pg_catalog.bytea") +
                                      "[])) AS v(tid, val) WHERE t.ctid OPERATOR(pg_catalog.=) v.tid",
                                  {TIDARRAYOID, static_cast<Oid>(is_text ? TEXTARRAYOID : BYTEAARRAYOID)});
            prefix = keys::context_prefix(relid, col.column);
        }
        std::set<std::uint32_t> compromised;
        {
            spi::Args none(0);
            spi::Rows rows = spi::execute(compromised_keys, none, SPI_OK_SELECT);
            for (std::uint64_t i = 0; i < rows.size(); ++i)
                compromised.insert(static_cast<std::uint32_t>(DatumGetInt32(*rows.get(i, 1))));
        }
        keys::TriggerModeScope trusted(keys::TriggerMode::Trusted, relid, attnum);
        Datum params[2] = {col.last_key ? datum::make_text(*col.last_key) : Datum(0), Int32GetDatum(batch_)};
        const char nulls[2] = {col.last_key ? ' ' : 'n', ' '};
        SPIPlanPtr select_plan = col.last_key ? plan.next : plan.first;
        std::uint64_t fetched = call([&] {
            const int rc = SPI_execute_plan(select_plan, params, nulls, false, 0);
            if (rc != SPI_OK_SELECT) elog(ERROR, "rotation batch select failed: %s", SPI_result_code_string(rc));
            return static_cast<std::uint64_t>(SPI_processed);
        });
        spi::Rows rows(SPI_tuptable, fetched);
        std::vector<Datum> row_tids;
        std::vector<std::vector<std::uint8_t>> sealed;
        std::int64_t failed = 0;
        std::optional<std::string> last;
        const kp::RotationPhase phase = col.phase == 1 ? kp::RotationPhase::Compromised : kp::RotationPhase::All;
        // A copy: decrypting may evict the new key from a small cache.
        const vlx::core::SecretBytes& cached_target = keys::data_key(lazy, new_key);
        const vlx::core::SecretBytes target(cached_target.data(), cached_target.size());
        for (std::uint64_t i = 0; i < fetched; ++i) {
            const std::string row_key = datum::to_string(*rows.get(i, 1));
            last = row_key;
            auto value = rows.get(i, 2);
            if (!value) continue;
            const vlx::core::ByteView stored = keys::varlena_view(*value);
            try {
                std::vector<std::uint8_t> env;
                if (is_text) {
                    env = vlx::core::unarmor(std::string_view(reinterpret_cast<const char*>(stored.data()), stored.size()));
                } else {
                    env.assign(stored.begin(), stored.end());
                }
                const std::uint32_t value_key = vlx::core::peek_key_id(env);
                if (kp::rotation_action(value_key, new_key, phase, compromised.count(value_key) != 0) ==
                    kp::RotationAction::Skip)
                    continue;
                const std::string context = prefix + row_key;
                vlx::core::SecretBytes plain = keys::decrypt(lazy, env, context);
                sealed.push_back(vlx::core::encrypt_envelope(target, new_key, context, plain));
                row_tids.push_back(*rows.get(i, 3));
            } catch (const Error& e) {
                if (e.kind() != ErrorKind::DataCorrupted) throw;
                ++failed;  // not an authentic value for its row: left as it is, counted
            }
        }
        const auto n = static_cast<std::int64_t>(sealed.size());
        if (n > 0) {
            Datum up[2] = {tid_array(row_tids), value_array(sealed, is_text)};
            call([&] {
                // Re-encryption is not an application write: the table's triggers (the
                // sealing trigger included, whose work this is) do not fire for it. The
                // setting lives in the OwnerScope's GUC level and ends with the batch.
                set_config_option("session_replication_role", "replica", PGC_SUSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                                  true, 0, false);
                const int rc = SPI_execute_plan(plan.update, up, nullptr, false, 0);
                if (rc != SPI_OK_UPDATE) elog(ERROR, "rotation batch update failed: %s", SPI_result_code_string(rc));
            });
            spi::Args ck(2);
            ck.set(0, Int32GetDatum(static_cast<std::int32_t>(new_key))).set(1, Int64GetDatum(n));
            spi::execute(count_key, ck, SPI_OK_UPDATE);
        }
        const bool compromised_phase = col.phase == 1;
        if (fetched < static_cast<std::uint64_t>(batch_)) {
            // End of the table for this phase.
            col.phase = col.phase == 1 ? 2 : 3;
            col.last_key.reset();
        } else {
            col.last_key = last;
        }
        const std::int64_t now = keys::clock_now();
        spi::Args pa(8);
        pa.set(0, Int64GetDatum(rotation_id)).set(1, Int64GetDatum(col.id)).set(2, Int16GetDatum(static_cast<std::int16_t>(col.phase)));
        if (col.last_key) pa.set(3, datum::make_text(*col.last_key));
        pa.set(4, Int64GetDatum(n)).set(5, Int64GetDatum(failed)).set(6, TimestampTzGetDatum(now));
        pa.set(7, Int64GetDatum(compromised_phase ? n : 0));
        spi::execute(save_progress, pa, SPI_OK_UPDATE);
        spi::Args sr(4);
        sr.set(0, Int64GetDatum(rotation_id)).set(1, Int64GetDatum(n)).set(2, Int64GetDatum(failed)).set(3, TimestampTzGetDatum(now));
        spi::execute(save_rotation, sr, SPI_OK_UPDATE);
        total += n;
        scope.end();
        commit();
    }
    free_plan(plan);
    return total;
}

// Values of the purpose's columns not on new_key (including non-envelopes).
std::int64_t Rotation::remaining(const std::string& purpose, std::uint32_t new_key) {
    static spi::Statement columns(
        "SELECT pg_catalog.format('SELECT pg_catalog.count(*) FROM ONLY %I.%I AS t WHERE t.%I IS NOT NULL"
        " AND security.envelope_key_id(t.%I) IS DISTINCT FROM $1', c.table_schema, c.table_name, c.column_name, c.column_name)"
        "  FROM security.protected_columns c"
        " WHERE c.purpose OPERATOR(pg_catalog.=) $1"
        "   AND pg_catalog.to_regclass(pg_catalog.format('%I.%I', c.table_schema, c.table_name)) IS NOT NULL",
        {TEXTOID});
    spi::Args a(1);
    a.set(0, datum::make_text(purpose));
    spi::Rows rows = spi::execute(columns, a, SPI_OK_SELECT);
    std::vector<std::string> queries;
    for (std::uint64_t i = 0; i < rows.size(); ++i) queries.push_back(datum::to_string(*rows.get(i, 1)));
    std::int64_t total = 0;
    for (const auto& q : queries) {
        total += call([&] {
            Oid types[1] = {INT4OID};
            Datum vals[1] = {Int32GetDatum(static_cast<std::int32_t>(new_key))};
            // read_only = false: in an atomic CALL this transaction's own updates must count.
            const int rc = SPI_execute_with_args(q.c_str(), 1, types, vals, nullptr, false, 0);
            if (rc != SPI_OK_SELECT) elog(ERROR, "count failed");
            bool isnull = false;
            return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        });
    }
    return total;
}

std::int64_t Rotation::run(const std::string& purpose) {
    std::uint32_t new_key = 0;
    std::int64_t rotation_id = 0;
    {
        keys::OwnerScope scope(fcinfo_);
        rotation_id = start_or_resume(purpose, new_key);
        scope.end();
        commit();
    }
    static spi::Statement pending(
        "SELECT c.id, c.table_schema::text, c.table_name::text, c.column_name::text, c.key_column::text, c.column_type,"
        "       p.phase, p.last_key"
        "  FROM security.key_rotation_progress p JOIN security.protected_columns c ON c.id OPERATOR(pg_catalog.=) p.protected_column_id"
        " WHERE p.rotation_id OPERATOR(pg_catalog.=) $1 AND p.phase OPERATOR(pg_catalog.<) 3"
        " ORDER BY p.phase, c.id",
        {INT8OID});
    static spi::Statement reset(
        "UPDATE security.key_rotation_progress SET phase = 2, last_key = NULL WHERE rotation_id OPERATOR(pg_catalog.=) $1",
        {INT8OID});
    static spi::Statement finish(
        "WITH r AS (UPDATE security.key_rotations SET status = 'done', finished_at = $2"
        "            WHERE id OPERATOR(pg_catalog.=) $1 RETURNING purpose, new_key_id)"
        " UPDATE security.encryption_keys k SET retired_at = $2 FROM r"
        "  WHERE k.purpose OPERATOR(pg_catalog.=) r.purpose AND k.key_id OPERATOR(pg_catalog.<>) r.new_key_id"
        "    AND k.status OPERATOR(pg_catalog.=) ANY ('{retired,compromised}') AND k.retired_at IS NULL",
        {INT8OID, TIMESTAMPTZOID});
    std::int64_t total = 0;
    std::int64_t previous_left = -1;
    for (int round = 0; round < 5; ++round) {
        const std::int64_t total_before = total;
        std::vector<Column> cols;
        {
            keys::OwnerScope scope(fcinfo_);
            spi::Args a(1);
            a.set(0, Int64GetDatum(rotation_id));
            spi::Rows rows = spi::execute(pending, a, SPI_OK_SELECT);
            for (std::uint64_t i = 0; i < rows.size(); ++i) {
                Column c;
                c.id = DatumGetInt64(*rows.get(i, 1));
                c.schema = datum::to_string(*rows.get(i, 2));
                c.table = datum::to_string(*rows.get(i, 3));
                c.column = datum::to_string(*rows.get(i, 4));
                c.key_column = datum::to_string(*rows.get(i, 5));
                c.column_type = datum::to_string(*rows.get(i, 6));
                c.phase = DatumGetInt16(*rows.get(i, 7));
                if (auto lk = rows.get(i, 8)) c.last_key = datum::to_string(*lk);
                cols.push_back(std::move(c));
            }
            scope.end();
        }
        // Compromised keys first: every column's phase 1 before any column's phase 2.
        for (auto& c : cols)
            if (c.phase == 1) total += rotate_column(c, rotation_id, new_key, 1);
        for (auto& c : cols)
            if (c.phase == 2) total += rotate_column(c, rotation_id, new_key, 2);
        keys::OwnerScope scope(fcinfo_);
        const std::int64_t left = remaining(purpose, new_key);
        if (left == 0) {
            keys::LazySpi lazy(true);
            keys::fold_usage(lazy);
            spi::Args f(2);
            f.set(0, Int64GetDatum(rotation_id)).set(1, TimestampTzGetDatum(keys::clock_now()));
            spi::execute(finish, f, SPI_OK_UPDATE);
            keys::keys_changed();
            scope.end();
            commit();
            return total;
        }
        // Stop when a round made no progress (what is left is not authentic for its row, or
        // stays locked) or after five rounds.
        const bool stuck = total == total_before && left == previous_left;
        previous_left = left;
        if (round == 4 || stuck) {
            scope.end();
            call([&] {
                ereport(WARNING, (errmsg("%lld protected values of purpose %s are still on old keys",
                                         static_cast<long long>(left), purpose.c_str()),
                                  errdetail("They were locked by other transactions or are not authentic values for their row "
                                            "(see values_failed in security.key_rotation_status)."),
                                  errhint("CALL security.rotate_keys() again; security.verify_key_rotation() counts them.")));
            });
            return total;
        }
        // Rows skipped (locked) or written with an old key meanwhile: another pass.
        spi::Args a(1);
        a.set(0, Int64GetDatum(rotation_id));
        spi::execute(reset, a, SPI_OK_UPDATE);
        scope.end();
        commit();
        call([] { pg_usleep(50000L); });
    }
    return total;
}

}  // namespace

// CALL security.rotate_keys(purpose text DEFAULT NULL, batch_size integer DEFAULT 1000)
VLX_FUNCTION(vlx_rotate_keys) {
    const std::optional<std::string> purpose = datum::text_arg(fcinfo, 0);
    if (PG_ARGISNULL(1)) throw Error(ErrorKind::NullValue, "batch_size must not be NULL");
    const int batch = PG_GETARG_INT32(1);
    if (batch < 1 || batch > 100000) vlx::core::invalid_parameter("batch_size must be between 1 and 100000");
    const bool nonatomic = fcinfo->context && IsA(fcinfo->context, CallContext) &&
                           !reinterpret_cast<CallContext*>(fcinfo->context)->atomic;
    call([&] {
        if (SPI_connect_ext(nonatomic ? SPI_OPT_NONATOMIC : 0) != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    std::vector<std::string> purposes;
    if (purpose) {
        purposes.push_back(*purpose);
    } else {
        keys::OwnerScope scope(fcinfo);
        static spi::Statement all(
            "SELECT purpose FROM security.protected_columns UNION"
            " SELECT purpose FROM security.encryption_keys WHERE status OPERATOR(pg_catalog.<>) 'destroyed'"
            " ORDER BY 1",
            {});
        spi::Args none(0);
        spi::Rows rows = spi::execute(all, none, SPI_OK_SELECT);
        for (std::uint64_t i = 0; i < rows.size(); ++i) purposes.push_back(datum::to_string(*rows.get(i, 1)));
        scope.end();
    }
    Rotation rotation(fcinfo, nonatomic, batch);
    std::int64_t total = 0;
    for (const auto& p : purposes) total += rotation.run(p);
    call([&] {
        ereport(NOTICE, (errmsg("rotate_keys: %lld values re-encrypted", static_cast<long long>(total))));
        SPI_finish();
    });
    PG_RETURN_VOID();
}

// security.verify_key_rotation() -> bigint: protected values not on the active key of their
// purpose (values that are not envelopes at all included). 0 when rotation is complete.
VLX_FUNCTION(vlx_verify_key_rotation) {
    spi::Connection conn;
    keys::LazySpi lazy(true);
    keys::fold_usage(lazy);
    keys::check_key_ages(lazy);
    static spi::Statement columns(
        "SELECT pg_catalog.format('SELECT pg_catalog.count(*) FROM ONLY %I.%I AS t WHERE t.%I IS NOT NULL"
        " AND security.envelope_key_id(t.%I) IS DISTINCT FROM %s', c.table_schema, c.table_name, c.column_name,"
        " c.column_name, coalesce((SELECT k.key_id FROM security.encryption_keys k"
        "                          WHERE k.purpose = c.purpose AND k.status = 'active')::text, 'NULL'))"
        "  FROM security.protected_columns c"
        " WHERE pg_catalog.to_regclass(pg_catalog.format('%I.%I', c.table_schema, c.table_name)) IS NOT NULL"
        " ORDER BY c.id",
        {});
    spi::Args none(0);
    spi::Rows rows = spi::execute(columns, none, SPI_OK_SELECT);
    std::vector<std::string> queries;
    for (std::uint64_t i = 0; i < rows.size(); ++i) queries.push_back(datum::to_string(*rows.get(i, 1)));
    std::int64_t total = 0;
    for (const auto& q : queries) {
        total += call([&] {
            if (SPI_execute(q.c_str(), false, 0) != SPI_OK_SELECT) elog(ERROR, "count failed");
            bool isnull = false;
            return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        });
    }
    conn.finish();
    return Int64GetDatum(total);
}

// security.rewrap_keys(old_master_key_hex text DEFAULT NULL) -> integer: re-wraps, under the
// configured master key, every data key wrapped by another one (which must be the given old
// master key). Returns how many were re-wrapped.
VLX_FUNCTION(vlx_rewrap_keys) {
    const std::optional<std::string> old_hex = datum::text_arg(fcinfo, 0);
    const vlx::core::SecretBytes& master = keys::master_key();
    const auto current = vlx::core::master_key_fingerprint(master);
    spi::Connection conn;
    static spi::Statement stale(
        "SELECT key_id, purpose, wrapped_key, master_key_fingerprint FROM security.encryption_keys"
        " WHERE status <> 'destroyed' AND master_key_fingerprint IS DISTINCT FROM $1 ORDER BY key_id FOR UPDATE",
        {BYTEAOID});
    static spi::Statement save(
        "UPDATE security.encryption_keys SET wrapped_key = $2, master_key_fingerprint = $3 WHERE key_id = $1",
        {INT4OID, BYTEAOID, BYTEAOID});
    spi::Args a(1);
    a.set(0, keys::bytea_datum(vlx::core::ByteView(current)));
    spi::Rows rows = spi::execute(stale, a, SPI_OK_SELECT);
    struct Stale {
        std::uint32_t key_id;
        std::string purpose;
        std::vector<std::uint8_t> wrapped, fingerprint;
    };
    std::vector<Stale> list;
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        Stale s;
        s.key_id = static_cast<std::uint32_t>(DatumGetInt32(*rows.get(i, 1)));
        s.purpose = datum::to_string(*rows.get(i, 2));
        const auto w = keys::varlena_view(*rows.get(i, 3));
        s.wrapped.assign(w.begin(), w.end());
        if (auto f = rows.get(i, 4)) {
            const auto fv = keys::varlena_view(*f);
            s.fingerprint.assign(fv.begin(), fv.end());
        }
        list.push_back(std::move(s));
    }
    if (list.empty()) {
        conn.finish();
        return Int32GetDatum(0);
    }
    if (!old_hex)
        throw Error(ErrorKind::InvalidParameter,
                    std::to_string(list.size()) + " data keys are wrapped by another master key",
                    {}, "Pass the previous master key: SELECT security.rewrap_keys('<64 hex digits>').");
    vlx::core::SecretBytes old_master = vlx::core::parse_master_key_hex(*old_hex);
    const auto old_fp = vlx::core::master_key_fingerprint(old_master);
    for (const auto& s : list) {
        if (!s.fingerprint.empty() && !std::equal(s.fingerprint.begin(), s.fingerprint.end(), old_fp.begin()))
            throw Error(ErrorKind::InvalidParameter,
                        "data key " + std::to_string(s.key_id) + " was not wrapped by the given old master key");
        vlx::core::SecretBytes data_key = vlx::core::unwrap_data_key(old_master, s.wrapped, s.purpose, s.key_id);
        const auto wrapped = vlx::core::wrap_data_key(master, data_key, s.purpose, s.key_id);
        spi::Args u(3);
        u.set(0, Int32GetDatum(static_cast<std::int32_t>(s.key_id)));
        u.set(1, keys::bytea_datum(wrapped));
        u.set(2, keys::bytea_datum(vlx::core::ByteView(current)));
        spi::execute(save, u, SPI_OK_UPDATE);
    }
    keys::keys_changed();
    conn.finish();
    return Int32GetDatum(static_cast<std::int32_t>(list.size()));
}
