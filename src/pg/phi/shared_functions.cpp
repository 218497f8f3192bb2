// SQL views of the PHI shared memory: the running counts of open events, the current
// days' distinct patients, and the usage counters (bounded memory, reported).
#include "pg/phi/shared_state.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "catalog/namespace.h"
#include "storage/lwlock.h"
#include "utils/lsyscache.h"
#include "utils/hsearch.h"
}
#pragma GCC diagnostic pop

namespace phi = vlx::pg::phi;
namespace shared = vlx::pg::phi::shared;
using vlx::pg::call;

namespace {

struct EventRow {
    std::int64_t event_id, access_count, first_access, last_access;
};
struct DayRow {
    phi::Uuid user;
    std::int32_t day;
    std::int64_t patients;
};

// Copies what the rows need under each partition's lock, so no lock is held while the
// result is built.
void collect(std::vector<EventRow>* events, std::vector<DayRow>* days) {
    if (!shared::available()) return;
    std::vector<shared::UserEntry*> entries;
    std::vector<phi::Uuid> keys;
    call([&] {
        // Keys first (every partition lock shared, as dynahash requires for a scan).
        for (int i = 0; i < shared::kPartitions; ++i) LWLockAcquire(shared::partition_lock_at(i), LW_SHARED);
        const Oid relid = get_relname_relid("audit_logs", get_namespace_oid("security", false));
        HASH_SEQ_STATUS status;
        hash_seq_init(&status, shared::users_table());
        while (auto* e = static_cast<shared::UserEntry*>(hash_seq_search(&status))) {
            if (e->key.database != MyDatabaseId || e->relid != relid) continue;
            if (days && e->today.estimate() > 0) days->push_back(DayRow{e->key.user, e->day, e->today.estimate()});
            if (events)
                for (const shared::OpenSlot& s : e->open)
                    if (s.used && s.event_id != 0)
                        events->push_back(EventRow{s.event_id, s.access_count, s.first_access, s.last_access});
        }
        for (int i = shared::kPartitions - 1; i >= 0; --i) LWLockRelease(shared::partition_lock_at(i));
    });
}

}  // namespace

VLX_FUNCTION(vlx_phi_shared_events) {
    std::vector<EventRow> rows;
    collect(&rows, nullptr);
    call([&] {
        InitMaterializedSRF(fcinfo, 0);
        ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
        for (const EventRow& r : rows) {
            Datum v[4] = {Int64GetDatum(r.event_id), Int64GetDatum(r.access_count), TimestampTzGetDatum(r.first_access),
                          TimestampTzGetDatum(r.last_access)};
            bool n[4] = {false, false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
        }
    });
    return Datum(0);
}

VLX_FUNCTION(vlx_phi_shared_days) {
    std::vector<DayRow> rows;
    collect(nullptr, &rows);
    call([&] {
        InitMaterializedSRF(fcinfo, 0);
        ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
        for (const DayRow& r : rows) {
            Datum v[3] = {phi::uuid_datum(r.user), DateADTGetDatum(r.day), Int64GetDatum(r.patients)};
            bool n[3] = {false, false, false};
            tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
        }
    });
    return Datum(0);
}

VLX_FUNCTION(vlx_phi_shared_state) {
    TupleDesc desc = call([&] {
        TupleDesc d;
        if (get_call_result_type(fcinfo, nullptr, &d) != TYPEFUNC_COMPOSITE) elog(ERROR, "composite result expected");
        return BlessTupleDesc(d);
    });
    const bool on = shared::available();
    const shared::Usage u = shared::usage();
    return call([&] {
        Datum v[7] = {Int64GetDatum(u.users), Int64GetDatum(u.users_capacity), Int64GetDatum(u.users_refused),
                      Int64GetDatum(u.ring), Int64GetDatum(u.ring_capacity), Int64GetDatum(u.ring_dropped),
                      Int64GetDatum(u.bytes)};
        bool n[7];
        for (bool& x : n) x = !on;
        return HeapTupleGetDatum(heap_form_tuple(desc, v, n));
    });
}
