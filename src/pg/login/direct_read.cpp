#include "pg/login/direct_read.hpp"

#include "pg/boundary.hpp"
#include "pg/datum.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::login {
namespace {

using core::login::AccountState;

Oid security_relation(const char* name) {
    return call([&] {
        const Oid oid = get_relname_relid(name, get_namespace_oid("security", false));
        if (!OidIsValid(oid)) elog(ERROR, "vitaluxe_security: relation security.%s is missing", name);
        return oid;
    });
}

AttrNumber column(Oid relid, const char* name) {
    return call([&] {
        const AttrNumber attno = get_attnum(relid, name);
        if (attno == InvalidAttrNumber) elog(ERROR, "vitaluxe_security: column %s is missing", name);
        return attno;
    });
}

// An index scan over one of the extension's tables. It holds PostgreSQL objects only and
// every PostgreSQL call is made through call(), so no C++ frame is ever unwound by a
// longjmp. close() ends it on the normal path; on an error the (sub)transaction abort
// releases the locks, the snapshot and the scan, so there is deliberately no destructor.
class IndexRead {
public:
    IndexRead(Oid table_oid, Oid index_oid, ScanKeyData* keys, int nkeys) {
        call([&] {
            table_ = table_open(table_oid, AccessShareLock);
            index_ = index_open(index_oid, AccessShareLock);
            // Like an SPI statement in READ COMMITTED: everything committed before now.
            snapshot_ = RegisterSnapshot(GetTransactionSnapshot());
            for (int i = 0; i < nkeys; ++i)
                if (keys[i].sk_attno == 1) keys[i].sk_collation = index_->rd_indcollation[0];
            scan_ = index_beginscan(table_, index_, snapshot_, nkeys, 0);
            index_rescan(scan_, keys, nkeys, nullptr, 0);
            slot_ = table_slot_create(table_, nullptr);
        });
    }

    bool next() { return call([&] { return index_getnext_slot(scan_, ForwardScanDirection, slot_); }); }

    std::optional<Datum> get(AttrNumber attno) {
        bool is_null = false;
        const Datum value = call([&] { return slot_getattr(slot_, attno, &is_null); });
        if (is_null) return std::nullopt;
        return value;
    }

    void close() {
        call([&] {
            ExecDropSingleTupleTableSlot(slot_);
            index_endscan(scan_);
            UnregisterSnapshot(snapshot_);
            index_close(index_, AccessShareLock);
            table_close(table_, AccessShareLock);
        });
    }

private:
    Relation table_ = nullptr;
    Relation index_ = nullptr;
    Snapshot snapshot_ = nullptr;
    IndexScanDesc scan_ = nullptr;
    TupleTableSlot* slot_ = nullptr;
};

// Relation OIDs and column numbers of the two reads, looked up once per backend and
// forgotten on any relcache invalidation of those relations (DROP/CREATE EXTENSION, DDL).
struct Catalog {
    bool valid = false;
    Oid login_state = InvalidOid, login_state_pkey = InvalidOid;
    Oid attempts = InvalidOid, attempts_email_idx = InvalidOid;
    AttrNumber state_col[7] = {};
    AttrNumber attempt_id = 0, attempt_at = 0, attempt_during = 0;
};
Catalog g_catalog;
bool g_callback_registered = false;

void forget_catalog(Datum, Oid relid) {
    if (relid == InvalidOid || relid == g_catalog.login_state || relid == g_catalog.login_state_pkey ||
        relid == g_catalog.attempts || relid == g_catalog.attempts_email_idx)
        g_catalog.valid = false;
}

const Catalog& catalog() {
    if (g_catalog.valid) return g_catalog;
    if (!g_callback_registered) {
        call([] { CacheRegisterRelcacheCallback(forget_catalog, Datum(0)); });
        g_callback_registered = true;
    }
    static const char* const state_names[] = {"locked", "locked_until", "counting_since", "reset_after_id",
                                              "recent_lockouts", "monitor_until", "monitor_alerted"};
    Catalog c;
    c.login_state = security_relation("login_state");
    c.login_state_pkey = security_relation("login_state_pkey");
    c.attempts = security_relation("failed_login_attempts");
    c.attempts_email_idx = security_relation("failed_login_attempts_email_idx");
    for (int i = 0; i < 7; ++i) c.state_col[i] = column(c.login_state, state_names[i]);
    c.attempt_id = column(c.attempts, "id");
    c.attempt_at = column(c.attempts, "attempted_at");
    c.attempt_during = column(c.attempts, "during_lockout");
    c.valid = true;
    g_catalog = c;
    return g_catalog;
}

struct StateRow {
    AccountState state;
    std::optional<std::int64_t> counting_since;
    std::int64_t reset_after_id = 0;
};

StateRow read_state_row(Datum email_text) {
    const Catalog& cat = catalog();
    const AttrNumber* col = cat.state_col;

    ScanKeyData key;
    call([&] { ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_TEXTEQ, email_text); });
    StateRow row;
    IndexRead read(cat.login_state, cat.login_state_pkey, &key, 1);
    if (read.next()) {
        AccountState& s = row.state;
        if (auto v = read.get(col[0])) s.locked = DatumGetBool(*v);
        if (auto v = read.get(col[1])) s.locked_until = DatumGetTimestampTz(*v);
        if (auto v = read.get(col[2])) row.counting_since = DatumGetTimestampTz(*v);
        if (auto v = read.get(col[3])) row.reset_after_id = DatumGetInt64(*v);
        if (auto v = read.get(col[4])) s.recent_lockouts = datum::to_timestamps(*v);
        if (auto v = read.get(col[5])) s.monitor_until = DatumGetTimestampTz(*v);
        if (auto v = read.get(col[6])) s.monitor_alerted = DatumGetBool(*v);
    }
    read.close();
    return row;
}

}  // namespace

AccountState read_account_state(const std::string& email, std::int64_t now, const core::login::Policy& policy) {
    const Datum email_text = datum::make_text(email);
    StateRow row = read_state_row(email_text);
    AccountState& s = row.state;
    // A live lockout needs no count (counting restarts with it); otherwise count the
    // failures after the window's start, the last reset and the last lockout's end: the
    // scan starts at that bound and stops after `threshold` counted rows.
    if (s.locked_at(now)) return s;
    std::int64_t lower = now - policy.window;
    if (row.counting_since && *row.counting_since > lower) lower = *row.counting_since;
    if (s.locked && s.locked_until && *s.locked_until > lower) lower = *s.locked_until;

    const Catalog& cat = catalog();
    const AttrNumber id = cat.attempt_id, attempted_at = cat.attempt_at, during_lockout = cat.attempt_during;
    ScanKeyData keys[2];
    call([&] {
        ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid, InvalidOid, F_TEXTEQ, email_text);
        ScanKeyEntryInitialize(&keys[1], 0, 2, BTGreaterEqualStrategyNumber, InvalidOid, InvalidOid, F_TIMESTAMPTZ_GE,
                               TimestampTzGetDatum(lower));
    });
    const std::int64_t window_start = now - policy.window;
    std::vector<std::int64_t> newest_first;
    IndexRead read(cat.attempts, cat.attempts_email_idx, keys, 2);
    while (newest_first.size() < static_cast<std::size_t>(policy.threshold) && read.next()) {
        const auto at = read.get(attempted_at);
        const auto row_id = read.get(id);
        const auto during = read.get(during_lockout);
        if (at && DatumGetTimestampTz(*at) > window_start && row_id && DatumGetInt64(*row_id) > row.reset_after_id &&
            !(during && DatumGetBool(*during)))
            newest_first.push_back(DatumGetTimestampTz(*at));
    }
    read.close();
    s.counted_failures.assign(newest_first.rbegin(), newest_first.rend());
    return s;
}

}  // namespace vlx::pg::login
