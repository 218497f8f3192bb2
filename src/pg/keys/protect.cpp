// security.protect_column, its trigger and the decrypting views' function (SPEC §4).
#include "pg/keys/protect.hpp"

#include "core/crypto/envelope.hpp"
#include "core/error.hpp"
#include "core/keys/key_policy.hpp"
#include "pg/datum.hpp"
#include "pg/keys/keyring.hpp"
#include "pg/keys/varlena.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}
#pragma GCC diagnostic pop

namespace keys = vlx::pg::keys;
namespace spi = vlx::pg::spi;
namespace datum = vlx::pg::datum;
using vlx::core::Error;
using vlx::core::ErrorKind;
using vlx::pg::call;

namespace vlx::pg::keys {
namespace {
TriggerMode g_mode = TriggerMode::Normal;
Oid g_trusted_rel = InvalidOid;
int g_trusted_att = 0;
}  // namespace

// Values the trigger sealed in Initial mode (protect_column reports them).
std::uint64_t g_initial_sealed = 0;

TriggerModeScope::TriggerModeScope(TriggerMode mode, Oid rel, int attnum)
    : saved_mode_(g_mode), saved_rel_(g_trusted_rel), saved_att_(g_trusted_att) {
    g_mode = mode;
    g_trusted_rel = rel;
    g_trusted_att = attnum;
}

TriggerModeScope::~TriggerModeScope() {
    g_mode = saved_mode_;
    g_trusted_rel = saved_rel_;
    g_trusted_att = saved_att_;
}

TriggerMode trigger_mode() { return g_mode; }
bool trusted_write(Oid rel, int attnum) {
    return g_mode == TriggerMode::Trusted && rel == g_trusted_rel && attnum == g_trusted_att;
}

std::string context_prefix(Oid relid, const std::string& column) {
    return call([&] {
        char* nsp = get_namespace_name(get_rel_namespace(relid));
        char* rel = get_rel_name(relid);
        if (!nsp || !rel) elog(ERROR, "relation %u does not exist", relid);
        return core::keys::protected_context(quote_identifier(nsp), quote_identifier(rel),
                                             quote_identifier(column.c_str()), "");
    });
}

}  // namespace vlx::pg::keys

namespace {

bool is_allowed_key_type(Oid type) {
    switch (type) {
        case INT2OID:
        case INT4OID:
        case INT8OID:
        case TEXTOID:
        case VARCHAROID:
        case UUIDOID:
        case NUMERICOID: return true;
        default: return false;
    }
}

std::string name_arg(FunctionCallInfo fcinfo, int n, const char* what) {
    if (PG_ARGISNULL(n)) throw Error(ErrorKind::NullValue, std::string(what) + " must not be NULL");
    return call([&] { return std::string(NameStr(*PG_GETARG_NAME(n))); });
}

// The stored bytes of a protected value: bytea as is, text unarmored when it is armor.
std::optional<std::vector<std::uint8_t>> envelope_of(const vlx::core::ByteView& stored, bool is_text) {
    if (!is_text) return std::vector<std::uint8_t>(stored.begin(), stored.end());
    const std::string_view text(reinterpret_cast<const char*>(stored.data()), stored.size());
    if (!vlx::core::is_armored(text)) return std::nullopt;
    return vlx::core::unarmor(text);
}

// True when stored already is an authentic value for context (so it is kept, not sealed
// again). Only "this is not ours" is swallowed; a missing master key or a database error
// goes up.
bool authentic_for(keys::LazySpi& spi, const vlx::core::ByteView& stored, bool is_text, const std::string& context) {
    if (stored.size() < (is_text ? vlx::core::kArmorPrefix.size() : vlx::core::kEnvelopeOverhead)) return false;
    try {
        auto env = envelope_of(stored, is_text);
        if (!env) return false;
        keys::decrypt(spi, *env, context);
        return true;
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::DataCorrupted) return false;
        throw;
    }
}

Datum stored_datum(const std::vector<std::uint8_t>& envelope, bool is_text) {
    if (is_text) return keys::text_datum(vlx::core::ByteView(vlx::core::armor(envelope)));
    return keys::bytea_datum(envelope);
}

}  // namespace

// security.protect_trigger(): BEFORE INSERT OR UPDATE FOR EACH ROW, args (column, key column).
VLX_FUNCTION(vlx_protect_trigger) {
    auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
        !(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)) ||
        td->tg_trigger->tgnargs != 2)
        throw Error(ErrorKind::Internal, "protect_trigger must be a BEFORE INSERT OR UPDATE row trigger with 2 arguments");
    const bool is_update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
    Relation rel = td->tg_relation;
    TupleDesc desc = rel->rd_att;
    HeapTuple newtuple = is_update ? td->tg_newtuple : td->tg_trigtuple;
    const std::string column = td->tg_trigger->tgargs[0];
    const std::string key_column = td->tg_trigger->tgargs[1];
    const int attnum = call([&] { return SPI_fnumber(desc, column.c_str()); });
    const int key_attnum = call([&] { return SPI_fnumber(desc, key_column.c_str()); });
    if (attnum <= 0 || key_attnum <= 0)
        throw Error(ErrorKind::InvalidParameter, "protected column or its key column no longer exists",
                    "table " + std::string(RelationGetRelationName(rel)));
    const Oid relid = RelationGetRelid(rel);
    const bool is_text = TupleDescAttr(desc, attnum - 1)->atttypid == TEXTOID;

    bool isnull = false;
    const Datum value = call([&] { return heap_getattr(newtuple, attnum, desc, &isnull); });
    if (isnull) return PointerGetDatum(newtuple);
    if (keys::trusted_write(relid, attnum)) return PointerGetDatum(newtuple);

    auto key_text = [&](HeapTuple tuple) {
        return call([&]() -> std::optional<std::string> {
            char* s = SPI_getvalue(tuple, desc, key_attnum);
            if (!s) return std::nullopt;
            return std::string(s);
        });
    };
    const std::optional<std::string> row_key = key_text(newtuple);
    if (!row_key)
        throw Error(ErrorKind::NullValue, "the row key column \"" + key_column + "\" of a protected row must not be NULL");
    const std::string prefix = keys::context_prefix(relid, column);
    const std::string context = prefix + *row_key;
    const vlx::core::ByteView stored = keys::varlena_view(value);

    keys::LazySpi spi;
    std::optional<std::vector<std::uint8_t>> sealed;
    if (is_update && keys::trigger_mode() != keys::TriggerMode::Initial) {
        bool old_null = false;
        const Datum old_value = call([&] { return heap_getattr(td->tg_trigtuple, attnum, desc, &old_null); });
        const bool same = !old_null && call([&] { return datum_image_eq(value, old_value, false, -1); });
        if (same) {
            const std::optional<std::string> old_key = key_text(td->tg_trigtuple);
            if (old_key && *old_key == *row_key) return PointerGetDatum(newtuple);  // untouched: left alone
            // The row key changed under an unchanged value: the ciphertext follows the row.
            bool moved = false;
            if (old_key) {
                try {
                    auto env = envelope_of(stored, is_text);
                    if (env) {
                        vlx::core::SecretBytes plain = keys::decrypt(spi, *env, prefix + *old_key);
                        sealed = keys::encrypt(spi, "phi", context, plain);
                        moved = true;
                    }
                } catch (const Error& e) {
                    if (e.kind() != ErrorKind::DataCorrupted) throw;
                }
            }
            if (!moved) sealed = keys::encrypt(spi, "phi", context, stored);
        }
    }
    if (!sealed) {
        if (authentic_for(spi, stored, is_text, context)) {
            spi.finish();
            return PointerGetDatum(newtuple);
        }
        sealed = keys::encrypt(spi, "phi", context, stored);
        if (keys::trigger_mode() == keys::TriggerMode::Initial) ++keys::g_initial_sealed;
    }
    spi.finish();
    Datum replacement = stored_datum(*sealed, is_text);
    return call([&] {
        int cols[1] = {attnum};
        Datum vals[1] = {replacement};
        bool nulls[1] = {false};
        return PointerGetDatum(heap_modify_tuple_by_cols(newtuple, desc, 1, cols, vals, nulls));
    });
}

// security.protect_column(tbl regclass, col name, key_column name DEFAULT 'id') -> bigint
// (the number of existing values it encrypted).
VLX_FUNCTION(vlx_protect_column) {
    const Oid relid = DatumGetObjectId(datum::require_arg(fcinfo, 0, "tbl"));
    const std::string column = name_arg(fcinfo, 1, "col");
    const std::string key_column = name_arg(fcinfo, 2, "key_column");

    struct Target {
        std::string schema, table, qschema, qtable, qcolumn, qkey;
        Oid column_type = InvalidOid;
        int attnum = 0;
        int key_attnum = 0;
    } t;
    call([&] {
        const char kind = get_rel_relkind(relid);
        if (kind == '\0') ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation %u does not exist", relid)));
        if (kind == RELKIND_PARTITIONED_TABLE)
            ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                            errmsg("\"%s\" is a partitioned table", get_rel_name(relid)),
                            errhint("Protect the column of each partition.")));
        if (kind != RELKIND_RELATION)
            ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table", get_rel_name(relid))));
        t.schema = get_namespace_name(get_rel_namespace(relid));
        t.table = get_rel_name(relid);
        if (t.schema == "security" || t.schema == "pg_catalog" || t.schema == "information_schema")
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("tables of schema %s cannot be protected", t.schema.c_str())));
        t.attnum = get_attnum(relid, column.c_str());
        if (t.attnum == InvalidAttrNumber || t.attnum < 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("column \"%s\" of table %s does not exist", column.c_str(), quote_identifier(t.table.c_str()))));
        t.column_type = get_atttype(relid, t.attnum);
        if (t.column_type != TEXTOID && t.column_type != BYTEAOID)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("column \"%s\" is of type %s: only text and bytea columns can be protected",
                                   column.c_str(), format_type_be(t.column_type))));
        const AttrNumber key_att = get_attnum(relid, key_column.c_str());
        if (key_att == InvalidAttrNumber || key_att < 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("key column \"%s\" of table %s does not exist", key_column.c_str(),
                                   quote_identifier(t.table.c_str()))));
        if (key_att == t.attnum)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("the key column must not be the protected column")));
        const Oid key_type = get_atttype(relid, key_att);
        if (!is_allowed_key_type(key_type))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("key column \"%s\" is of type %s", key_column.c_str(), format_type_be(key_type)),
                            errhint("The row key must be smallint, integer, bigint, numeric, uuid, text or varchar, "
                                    "ideally the primary key.")));
        t.key_attnum = key_att;
        t.qschema = quote_identifier(t.schema.c_str());
        t.qtable = quote_identifier(t.table.c_str());
        t.qcolumn = quote_identifier(column.c_str());
        t.qkey = quote_identifier(key_column.c_str());
    });
    const std::string qualified = t.qschema + "." + t.qtable;
    const bool is_text = t.column_type == TEXTOID;

    spi::Connection conn;
    // The row key must identify one row: otherwise two rows would share a context and a
    // value could move between them unnoticed.
    static spi::Statement unique_key(
        "SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisunique"
        "   AND i.indnkeyatts OPERATOR(pg_catalog.=) 1 AND i.indkey[0] OPERATOR(pg_catalog.=) $2"
        "   AND i.indpred IS NULL AND i.indexprs IS NULL",
        {OIDOID, INT2OID});
    {
        spi::Args ua(2);
        ua.set(0, ObjectIdGetDatum(relid)).set(1, Int16GetDatum(static_cast<std::int16_t>(t.key_attnum)));
        if (spi::execute(unique_key, ua, SPI_OK_SELECT).empty())
            throw Error(ErrorKind::InvalidParameter,
                        "key column \"" + key_column + "\" of " + qualified + " is not unique", {},
                        "Each row's values are bound to its key: it must be the primary key or carry a unique index "
                        "of its own.");
    }
    // 1. The registry.
    static spi::Statement reg(
        "INSERT INTO security.protected_columns (table_schema, table_name, column_name, key_column, column_type)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (table_schema, table_name, column_name) DO UPDATE SET key_column = EXCLUDED.key_column"
        " WHERE security.protected_columns.key_column = EXCLUDED.key_column"
        " RETURNING id",
        {NAMEOID, NAMEOID, NAMEOID, NAMEOID, TEXTOID});
    spi::Args ra(5);
    auto name_datum = [](const std::string& s) {
        return call([&] { return DirectFunctionCall1(namein, CStringGetDatum(s.c_str())); });
    };
    ra.set(0, name_datum(t.schema)).set(1, name_datum(t.table)).set(2, name_datum(column)).set(3, name_datum(key_column));
    ra.set(4, datum::make_text(is_text ? "text" : "bytea"));
    spi::Rows reg_rows = spi::execute(reg, ra, SPI_OK_INSERT_RETURNING);
    if (reg_rows.empty())
        throw Error(ErrorKind::InvalidParameter, "column " + t.qcolumn + " of " + qualified +
                                                     " is already protected with another key column");

    // 2. The trigger (once).
    std::string trigger = "vlx_protect_" + column;
    if (trigger.size() > 63) trigger = "vlx_protect_" + std::to_string(t.attnum);
    static spi::Statement has_trigger(
        "SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid OPERATOR(pg_catalog.=) $1"
        " AND tgname OPERATOR(pg_catalog.=) $2",
        {OIDOID, NAMEOID});
    spi::Args ta(2);
    ta.set(0, ObjectIdGetDatum(relid)).set(1, name_datum(trigger));
    if (spi::execute(has_trigger, ta, SPI_OK_SELECT).empty()) {
        const std::string sql = call([&] {
            return std::string("CREATE TRIGGER ") + quote_identifier(trigger.c_str()) +
                   " BEFORE INSERT OR UPDATE ON " + qualified +
                   " FOR EACH ROW EXECUTE FUNCTION security.protect_trigger(" + quote_literal_cstr(column.c_str()) +
                   ", " + quote_literal_cstr(key_column.c_str()) + ")";
        });
        call([&] {
            if (SPI_execute(sql.c_str(), false, 0) != SPI_OK_UTILITY) elog(ERROR, "CREATE TRIGGER failed");
        });
    }

    // 3. The values already there (an authentic value for its row is kept as is).
    std::uint64_t encrypted = 0;
    {
        keys::TriggerModeScope mode(keys::TriggerMode::Initial);
        keys::g_initial_sealed = 0;
        const std::string sql =
            "UPDATE " + qualified + " SET " + t.qcolumn + " = " + t.qcolumn + " WHERE " + t.qcolumn + " IS NOT NULL";
        encrypted = call([&] {
            if (SPI_execute(sql.c_str(), false, 0) != SPI_OK_UPDATE) elog(ERROR, "initial encryption failed");
            return keys::g_initial_sealed;
        });
    }

    // 4. The decrypting view over every protected column of the table.
    static spi::Statement cols(
        "SELECT a.attname::text, p.key_column::text, p.id IS NOT NULL,"
        "       (SELECT pg_catalog.format('%I.%I', n.nspname, co.collname) FROM pg_catalog.pg_collation co"
        "          JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) co.collnamespace"
        "         WHERE co.oid OPERATOR(pg_catalog.=) a.attcollation)"
        "  FROM pg_catalog.pg_attribute a"
        "  LEFT JOIN security.protected_columns p"
        "    ON p.table_schema OPERATOR(pg_catalog.=) $2 AND p.table_name OPERATOR(pg_catalog.=) $3"
        "   AND p.column_name OPERATOR(pg_catalog.=) a.attname"
        " WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum",
        {OIDOID, NAMEOID, NAMEOID});
    spi::Args ca(3);
    ca.set(0, ObjectIdGetDatum(relid)).set(1, name_datum(t.schema)).set(2, name_datum(t.table));
    spi::Rows col_rows = spi::execute(cols, ca, SPI_OK_SELECT);
    std::vector<std::tuple<std::string, std::string, bool, std::string>> columns;
    for (std::uint64_t i = 0; i < col_rows.size(); ++i) {
        const bool prot = DatumGetBool(*col_rows.get(i, 3));
        auto coll = col_rows.get(i, 4);
        columns.emplace_back(datum::to_string(*col_rows.get(i, 1)),
                             prot ? datum::to_string(*col_rows.get(i, 2)) : std::string(), prot,
                             coll ? datum::to_string(*coll) : std::string());
    }
    std::string view_name = t.table + "_decrypted";
    const std::string view_sql = call([&] {
        std::string select;
        const std::string regclass_literal = quote_literal_cstr(qualified.c_str());
        for (const auto& [name, key, prot, collation] : columns) {
            if (!select.empty()) select += ", ";
            const std::string qn = quote_identifier(name.c_str());
            if (prot)
                select += "security.decrypt_protected(t." + qn + ", " + regclass_literal + "::pg_catalog.regclass, " +
                          quote_literal_cstr(name.c_str()) + "::pg_catalog.name, (t." + quote_identifier(key.c_str()) +
                          ")::pg_catalog.text)" + (collation.empty() ? std::string() : " COLLATE " + collation) +
                          " AS " + qn;
            else
                select += "t." + qn;
        }
        return "CREATE OR REPLACE VIEW " + t.qschema + "." + quote_identifier(view_name.c_str()) +
               " WITH (security_invoker = true) AS SELECT " + select + " FROM " + qualified + " AS t";
    });
    call([&] {
        if (SPI_execute(view_sql.c_str(), false, 0) != SPI_OK_UTILITY) elog(ERROR, "CREATE VIEW failed");
        const std::string qview = t.qschema + "." + quote_identifier(view_name.c_str());
        const std::string grant = "GRANT SELECT ON " + qview + " TO security_admin";
        if (SPI_execute(grant.c_str(), false, 0) != SPI_OK_UTILITY) elog(ERROR, "GRANT failed");
        const std::string comment =
            "COMMENT ON VIEW " + qview + " IS " +
            quote_literal_cstr(("The rows of " + qualified +
                                " with its protected columns decrypted; every decrypted value read is logged to "
                                "security.audit_logs (phi_decrypted). Readers need SELECT on the table.")
                                   .c_str());
        if (SPI_execute(comment.c_str(), false, 0) != SPI_OK_UTILITY) elog(ERROR, "COMMENT failed");
    });
    conn.finish();
    return Int64GetDatum(static_cast<std::int64_t>(encrypted));
}

// security.decrypt_protected(value text|bytea, tbl regclass, col name, row_key text):
// the function of the <table>_decrypted views. The caller (the role reading the view)
// must be able to SELECT the column; each value it returns is logged to audit_logs.
VLX_FUNCTION(vlx_decrypt_protected) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const Oid relid = DatumGetObjectId(datum::require_arg(fcinfo, 1, "tbl"));
    const std::string column = name_arg(fcinfo, 2, "col");
    const std::string row_key = datum::require_text(fcinfo, 3, "row_key");
    const bool is_text = get_fn_expr_argtype(fcinfo->flinfo, 0) == TEXTOID;
    const Oid reader = GetOuterUserId();
    const bool allowed = call([&] {
        if (pg_class_aclcheck(relid, reader, ACL_SELECT) == ACLCHECK_OK) return true;
        const AttrNumber att = get_attnum(relid, column.c_str());
        return att > 0 && pg_attribute_aclcheck(relid, att, reader, ACL_SELECT) == ACLCHECK_OK;
    });
    if (!allowed) throw Error(ErrorKind::InsufficientPrivilege, "permission denied to read the protected column");
    const std::string prefix = keys::context_prefix(relid, column);
    const vlx::core::ByteView stored = keys::varlena_view(PG_GETARG_DATUM(0));

    keys::LazySpi spi;
    spi.ensure();
    std::optional<std::vector<std::uint8_t>> env = envelope_of(stored, is_text);
    if (!env) throw Error(ErrorKind::DataCorrupted, "the stored value is not an encrypted value",
                              "column " + prefix.substr(0, prefix.size() - 1));
    vlx::core::SecretBytes plain = keys::decrypt(spi, *env, prefix + row_key);
    static spi::Statement audit(
        "INSERT INTO security.audit_logs (occurred_at, user_email, action, entity_type, entity_id, details)"
        " VALUES ($1, security.actor(), 'phi_decrypted', $2, $3,"
        "   pg_catalog.jsonb_build_object('column', $4::text, 'key_id', $5::integer, 'view', true))",
        {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, INT4OID});
    spi::Args a(5);
    const std::string qcol = call([&] { return std::string(quote_identifier(column.c_str())); });
    const std::string entity = prefix.substr(0, prefix.size() - qcol.size() - 2);
    a.set(0, TimestampTzGetDatum(keys::clock_now()));
    a.set(1, datum::make_text(entity));
    a.set(2, datum::make_text(row_key));
    a.set(3, datum::make_text(column));
    a.set(4, Int32GetDatum(static_cast<std::int32_t>(vlx::core::peek_key_id(*env))));
    spi::execute(audit, a, SPI_OK_INSERT);
    spi.finish();
    return is_text ? keys::text_datum_checked(plain) : keys::bytea_datum(plain);
}
