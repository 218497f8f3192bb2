// The PHI rules over shared memory (preloaded): the hot path of every audit_logs INSERT.
// Per statement: the accounts from the backend cache, then per user, under the user's
// partition lock, the rules against its shared entry (rate buckets, the day's distinct
// patients, 30 days of history, open events); no table is read or written unless
//  * the user has no entry yet (loaded once from the tables and the log),
//  * an event is raised (security_events + phi_event_state), or a running count is due
//    to be persisted (every kPersistEvery accesses, and when the event is superseded),
//  * a row is back-filled behind the entry's current bucket or day (judged exactly with
//    an index range query of the log), or the user's day rolls over (phi_daily written).
// The new rows go to the seal ring.
#include <map>

#include "core/error.hpp"
#include "core/phi/rules.hpp"
#include "core/phi/shared_state.hpp"
#include "pg/datum.hpp"
#include "pg/events.hpp"
#include "pg/phi/rule_inputs.hpp"
#include "pg/phi/shared_path.hpp"
#include "pg/phi/shared_state.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "storage/lwlock.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::phi {

namespace rules = core::phi;
namespace datum = pg::datum;

namespace {

constexpr std::int64_t kPersistEvery = 1000;
constexpr std::size_t kSealAtRing = 2048;
constexpr std::int64_t kSealEveryUsec = 1000000;
// A backend that just tried waits this long before trying again for a full ring: while
// another backend seals, the ring stays full and every insert would try the lock in vain.
constexpr std::int64_t kSealRetryUsec = 50000;
std::int64_t g_last_seal_try = 0;

// Held for a scope; released on unwind too (an ERROR also releases all LWLocks).
class PartitionLock {
public:
    explicit PartitionLock(const Uuid& user) : lock_(shared::partition_lock(user)) {
        call([&] { LWLockAcquire(lock_, LW_EXCLUSIVE); });
    }
    ~PartitionLock() {
        if (LWLockHeldByMe(lock_)) LWLockRelease(lock_);
    }
    PartitionLock(const PartitionLock&) = delete;
    PartitionLock& operator=(const PartitionLock&) = delete;

private:
    LWLock* lock_;
};

struct Derived {
    std::int64_t local = 0;
    std::int32_t day = 0;
    std::int64_t bucket = 0;
};

// Inputs of a back-filled row, computed exactly from the log outside the lock.
struct Backfill {
    std::size_t in_window = 0;
    std::int64_t today = 0;
    rules::BaselineStats stats;
};

struct Raise {
    rules::Rule rule;
    std::size_t row;
    std::size_t in_window;
    std::int64_t today;
    rules::BaselineStats stats;
    bool has_stats;
};

struct Persist {
    std::int64_t event_id;
    rules::Rule rule;
    shared::OpenSlot slot;
};

DateADT date_of(std::int32_t day) { return static_cast<DateADT>(day); }

// ---- loading a user's entry ----------------------------------------------------------

// Rebuilds a user's state from the tables and the log: the two buckets up to `bucket`,
// the distinct patients of local day `day`, the history days (recomputing from the log
// the days after the last one phi_daily holds), the open events.
void load_entry(shared::UserEntry& e, const Uuid& user, std::int64_t bucket, std::int32_t day,
                const std::string& tz, const Params& p, const std::vector<std::int64_t>& statement_ids) {
    e.buckets[0].reset(bucket);
    e.buckets[1].reset(bucket - 1);
    e.today.clear();
    e.day = day;
    for (auto& h : e.history) h = 0;
    for (auto& s : e.open) s = shared::OpenSlot{};

    // History days the rollup lacks (the server stopped before a rollover wrote them).
    static spi::Statement fill_history(
        "WITH last AS (SELECT coalesce(pg_catalog.max(d.day), $2 - 31) AS day FROM security.phi_daily AS d"
        "               WHERE d.user_id = $1 AND d.day < $2),"
        " days AS (SELECT g::date AS day FROM last, pg_catalog.generate_series("
        "            GREATEST(last.day + 1, $2 - 30)::timestamp, ($2 - 1)::timestamp, interval '1 day') AS g),"
        " counts AS (SELECT days.day, (SELECT pg_catalog.count(DISTINCT a.patient_id) FROM security.audit_logs AS a"
        "              WHERE a.user_id = $1 AND a.patient_id IS NOT NULL"
        "                AND a.occurred_at >= (days.day::timestamp AT TIME ZONE $3)"
        "                AND a.occurred_at < ((days.day + 1)::timestamp AT TIME ZONE $3)) AS n FROM days)"
        " INSERT INTO security.phi_daily AS d (user_id, day, patients)"
        " SELECT $1, counts.day, counts.n FROM counts WHERE counts.n > 0"
        " ON CONFLICT (user_id, day) DO UPDATE SET patients = GREATEST(d.patients, excluded.patients)",
        {UUIDOID, DATEOID, TEXTOID});
    static spi::Statement read(
        "SELECT 1, a.patient_id, a.occurred_at, NULL::int8, NULL::int8, NULL::timestamptz, NULL::bool, NULL::text"
        "  FROM security.audit_logs AS a"
        " WHERE a.user_id = $1 AND a.patient_id IS NOT NULL AND a.occurred_at > $2 AND a.occurred_at <= $3"
        "   AND a.id <> ALL ($6::int8[])"
        " UNION ALL"
        " SELECT 2, a.patient_id, NULL, NULL, NULL, NULL, NULL, NULL FROM security.audit_logs AS a"
        " WHERE a.user_id = $1 AND a.patient_id IS NOT NULL"
        "   AND a.occurred_at >= ($4::timestamp AT TIME ZONE $5)"
        "   AND a.occurred_at < (($4 + 1)::timestamp AT TIME ZONE $5) AND a.id <> ALL ($6::int8[])"
        " UNION ALL"
        " SELECT 3, NULL, NULL, (d.day OPERATOR(pg_catalog.-) date '2000-01-01')::int8, d.patients::int8, NULL, NULL, NULL"
        "  FROM security.phi_daily AS d WHERE d.user_id = $1 AND d.day >= $4 - 30 AND d.day < $4"
        " UNION ALL"
        " SELECT 4, NULL, s.first_access, s.event_id, s.access_count, s.last_access,"
        "        (SELECT e.status = 'open' FROM security.security_events AS e WHERE e.id = s.event_id), s.rule"
        "  FROM (VALUES ('phi_access_rate'), ('phi_cross_practice'), ('phi_unusual_hours'),"
        "               ('phi_baseline_deviation')) AS rr(rule)"
        " CROSS JOIN LATERAL (SELECT x.* FROM security.phi_event_state AS x"
        "                      WHERE x.user_id = $1 AND x.rule = rr.rule ORDER BY x.event_id DESC LIMIT 1) AS s"
        " ORDER BY 1, 3, 2",
        {UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, DATEOID, TEXTOID, INT8ARRAYOID});
    static spi::Statement window_keys(
        "SELECT s.rule, s.window_key FROM security.phi_event_state AS s WHERE s.event_id = ANY ($1::int8[])",
        {INT8ARRAYOID});

    spi::Args h(3);
    h.set(0, uuid_datum(user));
    h.set(1, DateADTGetDatum(date_of(day)));
    h.set(2, datum::make_text(tz));
    spi::execute(fill_history, h, SPI_OK_INSERT);

    std::vector<std::optional<Datum>> own;  // this statement's rows: judged next, not state
    for (std::int64_t id : statement_ids) own.emplace_back(Int64GetDatum(id));
    spi::Args a(6);
    a.set(5, make_array(INT8OID, own));
    a.set(0, uuid_datum(user));
    a.set(1, TimestampTzGetDatum((bucket - 1) * p.window - 1));
    a.set(2, TimestampTzGetDatum(bucket * p.window + p.window - 1));
    a.set(3, DateADTGetDatum(date_of(day)));
    a.set(4, datum::make_text(tz));
    spi::Rows r = spi::execute(read, a, SPI_OK_SELECT);
    const auto cap = static_cast<std::size_t>(p.threshold);
    for (std::uint64_t i = 0; i < r.size(); ++i) {
        const int kind = DatumGetInt32(*r.get(i, 1));
        if (kind == 1) {
            const std::int64_t t = DatumGetTimestampTz(*r.get(i, 3));
            const std::int64_t b = rules::floor_div(t, p.window);
            rules::RateSlots& slots = b == bucket ? e.buckets[0] : e.buckets[1];
            if (b == bucket || b == bucket - 1) slots.touch(uuid_of(*r.get(i, 2)), t, cap);
        } else if (kind == 2) {
            e.today.add(uuid_of(*r.get(i, 2)));
        } else if (kind == 3) {
            const std::int64_t d = DatumGetInt64(*r.get(i, 4));
            const std::int64_t idx = d - (day - shared::kHistoryDays);
            if (idx >= 0 && idx < shared::kHistoryDays)
                e.history[idx] = static_cast<std::int32_t>(DatumGetInt64(*r.get(i, 5)));
        } else if (kind == 4) {
            auto rule = rules::rule_from_event_type(datum::to_string(*r.get(i, 8)));
            auto open = r.get(i, 7);
            if (!rule || !open || !DatumGetBool(*open)) continue;
            shared::OpenSlot& s = e.open[static_cast<int>(*rule)];
            s.used = true;
            s.xid = InvalidTransactionId;
            s.event_id = DatumGetInt64(*r.get(i, 4));
            s.first_access = DatumGetTimestampTz(*r.get(i, 3));
            s.access_count = DatumGetInt64(*r.get(i, 5));
            s.persisted_count = s.access_count;
            s.last_access = DatumGetTimestampTz(*r.get(i, 6));
        }
    }
    // The window keys of the open events (unusual hours and baseline de-dup by key).
    std::vector<std::optional<Datum>> ids;
    for (const auto& s : e.open)
        if (s.used) ids.emplace_back(Int64GetDatum(s.event_id));
    if (!ids.empty()) {
        spi::Args k(1);
        k.set(0, make_array(INT8OID, ids));
        spi::Rows w = spi::execute(window_keys, k, SPI_OK_SELECT);
        for (std::uint64_t i = 0; i < w.size(); ++i) {
            auto rule = rules::rule_from_event_type(datum::to_string(*w.get(i, 1)));
            if (rule) e.open[static_cast<int>(*rule)].window_key = DatumGetInt64(*w.get(i, 2));
        }
    }
}

rules::BaselineStats stats_of(const shared::UserEntry& e) {
    std::int64_t history[shared::kHistoryDays];  // per access: no allocation
    std::size_t n = 0;
    for (std::int32_t v : e.history)
        if (v > 0) history[n++] = v;
    return rules::baseline(history, n);
}

// The user's day moves forward: the finished day joins the history.
void roll_day(shared::UserEntry& e, std::int32_t day, std::vector<std::pair<std::int32_t, std::int64_t>>* finished) {
    const std::int64_t done = e.today.estimate();
    if (done > 0) finished->push_back({e.day, done});
    const std::int32_t shift = day - e.day;
    std::int32_t next[shared::kHistoryDays] = {};
    for (int i = 0; i < shared::kHistoryDays; ++i) {
        const int from = i + shift;  // day-30+i in the new frame is old index i+shift
        if (from >= 0 && from < shared::kHistoryDays) next[i] = e.history[from];
        else if (from == shared::kHistoryDays) next[i] = static_cast<std::int32_t>(done);
    }
    std::memcpy(e.history, next, sizeof next);
    e.today.clear();
    e.day = day;
}

// Exact inputs of a back-filled row from the log (index range scans of one user).
Backfill backfill_inputs(const Uuid& user, const Row& row, std::int32_t day, const std::string& tz, const Params& p) {
    static spi::Statement q(
        "SELECT (SELECT pg_catalog.count(DISTINCT a.patient_id) FROM security.audit_logs AS a"
        "         WHERE a.user_id = $1 AND a.patient_id IS NOT NULL"
        "           AND a.occurred_at > $2 OPERATOR(pg_catalog.-) $3 AND a.occurred_at <= $2),"
        "       (SELECT pg_catalog.count(DISTINCT a.patient_id) FROM security.audit_logs AS a"
        "         WHERE a.user_id = $1 AND a.patient_id IS NOT NULL"
        "           AND a.occurred_at >= ($4::timestamp AT TIME ZONE $5) AND a.occurred_at <= $2),"
        "       (SELECT pg_catalog.array_agg(d.patients::int8) FROM security.phi_daily AS d"
        "         WHERE d.user_id = $1 AND d.day >= $4 - 30 AND d.day < $4 AND d.patients > 0)",
        {UUIDOID, TIMESTAMPTZOID, INTERVALOID, DATEOID, TEXTOID});
    static spi::Statement record_day(
        "INSERT INTO security.phi_daily AS d (user_id, day, patients)"
        " SELECT $1, $2, pg_catalog.count(DISTINCT a.patient_id) FROM security.audit_logs AS a"
        "  WHERE a.user_id = $1 AND a.patient_id IS NOT NULL"
        "    AND a.occurred_at >= ($2::timestamp AT TIME ZONE $3) AND a.occurred_at < (($2 + 1)::timestamp AT TIME ZONE $3)"
        " ON CONFLICT (user_id, day) DO UPDATE SET patients = excluded.patients",
        {UUIDOID, DATEOID, TEXTOID});
    Backfill b;
    spi::Args a(5);
    a.set(0, uuid_datum(user));
    a.set(1, TimestampTzGetDatum(row.t));
    a.set(2, call([&] {
        auto* iv = static_cast<Interval*>(palloc0(sizeof(Interval)));
        iv->time = p.window;
        return IntervalPGetDatum(iv);
    }));
    a.set(3, DateADTGetDatum(date_of(day)));
    a.set(4, datum::make_text(tz));
    spi::Rows r = spi::execute(q, a, SPI_OK_SELECT);
    b.in_window = static_cast<std::size_t>(DatumGetInt64(*r.get(0, 1)));
    b.today = DatumGetInt64(*r.get(0, 2));
    std::vector<std::int64_t> history;
    if (auto arr = r.get(0, 3)) {
        call([&] {
            ArrayType* at = DatumGetArrayTypeP(*arr);
            Datum* elems = nullptr;
            bool* nulls = nullptr;
            int n = 0;
            deconstruct_array(at, INT8OID, 8, true, TYPALIGN_DOUBLE, &elems, &nulls, &n);
            for (int i = 0; i < n; ++i)
                if (!nulls[i]) history.push_back(DatumGetInt64(elems[i]));
        });
    }
    b.stats = rules::baseline(history);
    spi::Args d(3);
    d.set(0, uuid_datum(user));
    d.set(1, DateADTGetDatum(date_of(day)));
    d.set(2, datum::make_text(tz));
    spi::execute(record_day, d, SPI_OK_INSERT);
    return b;
}

// Raises the events decided under the lock, then tells the slots their ids.
void raise_events(const Uuid& user, Oid relid, const std::vector<Row>& rows, const std::vector<Raise>& raises,
                  const Account& acct, const std::string& tz_name, const Params& p) {
    static spi::Statement state(
        "INSERT INTO security.phi_event_state (event_id, user_id, rule, window_key, first_access, last_access, access_count)"
        " VALUES ($1, $2, $3, $4, $5, $5, 1)",
        {INT8OID, UUIDOID, TEXTOID, INT8OID, TIMESTAMPTZOID});
    std::vector<std::pair<rules::Rule, std::int64_t>> ids;
    for (const Raise& rs : raises) {
        const Row& row = rows[rs.row];
        events::Event e;
        e.event_type = rules::event_type(rs.rule);
        e.severity = rules::severity(rs.rule);
        e.user_id = uuid_datum(user);
        e.email = acct.email;
        e.ip_address = row.ip;
        e.attempt_count = rs.rule == rules::Rule::Rate ? static_cast<int>(rs.in_window) : 1;
        e.details_json = details_for(rs.rule, row, p, acct, tz_name, rs.in_window, rs.today,
                                     rs.has_stats ? &rs.stats : nullptr);
        e.occurred_at = row.t;
        const std::int64_t id = events::raise(e);
        ids.push_back({rs.rule, id});
    }
    std::vector<shared::OpenSlot> snapshot(raises.size());
    {
        PartitionLock lock(user);
        shared::UserEntry* entry = shared::find(user, relid);
        const TransactionId xid = call([] { return GetCurrentTransactionId(); });
        for (std::size_t i = 0; i < raises.size(); ++i) {
            if (!entry) break;
            shared::OpenSlot& s = entry->open[static_cast<int>(ids[i].first)];
            // The slot is still ours (no later row of this statement replaced it).
            if (s.used && s.xid == xid && s.event_id == 0 && s.first_access <= rows[raises[i].row].t &&
                s.last_access >= rows[raises[i].row].t) {
                s.event_id = ids[i].second;
                s.persisted_count = 1;
            }
            snapshot[i] = s;
        }
    }
    for (std::size_t i = 0; i < raises.size(); ++i) {
        spi::Args a(5);
        a.set(0, Int64GetDatum(ids[i].second));
        a.set(1, uuid_datum(user));
        a.set(2, datum::make_text(rules::event_type(ids[i].first)));
        a.set(3, Int64GetDatum(snapshot[i].event_id == ids[i].second ? snapshot[i].window_key : 0));
        a.set(4, TimestampTzGetDatum(rows[raises[i].row].t));
        spi::execute(state, a, SPI_OK_INSERT);
    }
}

void persist_counts(const std::vector<Persist>& persists) {
    static spi::Statement upd(
        "UPDATE security.phi_event_state AS s SET access_count = GREATEST(s.access_count, $2),"
        "       first_access = LEAST(s.first_access, $3), last_access = GREATEST(s.last_access, $4)"
        " WHERE s.event_id = $1",
        {INT8OID, INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID});
    for (const Persist& ps : persists) {
        spi::Args a(4);
        a.set(0, Int64GetDatum(ps.event_id));
        a.set(1, Int64GetDatum(ps.slot.access_count));
        a.set(2, TimestampTzGetDatum(ps.slot.first_access));
        a.set(3, TimestampTzGetDatum(ps.slot.last_access));
        spi::execute(upd, a, SPI_OK_UPDATE);
    }
}

void record_days(const Uuid& user, const std::vector<std::pair<std::int32_t, std::int64_t>>& days) {
    static spi::Statement ins(
        "INSERT INTO security.phi_daily AS d (user_id, day, patients) VALUES ($1, $2, $3)"
        " ON CONFLICT (user_id, day) DO UPDATE SET patients = GREATEST(d.patients, excluded.patients)",
        {UUIDOID, DATEOID, INT4OID});
    for (const auto& [day, n] : days) {
        spi::Args a(3);
        a.set(0, uuid_datum(user));
        a.set(1, DateADTGetDatum(date_of(day)));
        a.set(2, Int32GetDatum(static_cast<std::int32_t>(n)));
        spi::execute(ins, a, SPI_OK_INSERT);
    }
}

}  // namespace

bool judge_in_shared_memory(std::vector<Row>& rows, const Params& p, Oid relid, Privileges& priv,
                            std::vector<Row>* table_path_rows) {
    if (!shared::available() || p.threshold <= 0 ||
        static_cast<std::size_t>(p.threshold) > rules::RateSlots::kCapacity)
        return false;
    const std::vector<Uuid> users = order_by_user(rows);
    // users are sorted and distinct, as the row groups below come: accounts[u] is the
    // account of the u-th group
    const std::vector<std::shared_ptr<const Account>> accounts = accounts_of(users, priv);
    std::size_t group = 0;
    const auto cap = static_cast<std::size_t>(p.threshold);
    std::optional<spi::Connection> conn;  // opened only when a table is needed
    auto need_spi = [&] {
        priv.ensure();
        if (!conn) conn.emplace();
    };

    std::size_t begin = 0;
    while (begin < rows.size()) {
        if (!rows[begin].user) {  // no user to judge: logged and chained only
            ++begin;
            continue;
        }
        const Uuid user = *rows[begin].user;
        std::size_t end = begin;
        while (end < rows.size() && rows[end].user == rows[begin].user) ++end;
        while (users.at(group) != user) ++group;
        const Account& acct = *accounts[group];
        pg_tz* tz = zone_of(acct, nullptr);
        std::string tz_name;  // the zone's name, for the table paths only
        auto zone_name = [&]() -> const std::string& {
            if (tz_name.empty()) zone_of(acct, &tz_name);
            return tz_name;
        };
        // A statement's rows of one user: on the stack when few (the single-row INSERT).
        constexpr std::size_t kSmall = 8;
        Derived der_small[kSmall];
        std::vector<Derived> der_large;
        if (end - begin > kSmall) der_large.resize(end - begin);
        Derived* const der = end - begin > kSmall ? der_large.data() : der_small;
        for (std::size_t i = begin; i < end; ++i) {
            der[i - begin].local = local_usec(rows[i].t, tz);
            der[i - begin].day = static_cast<std::int32_t>(rules::local_day(der[i - begin].local));
            der[i - begin].bucket = rules::floor_div(rows[i].t, p.window);
        }
        const Derived& newest = der[end - begin - 1];

        std::vector<Raise> raises;
        std::vector<Persist> persists;
        std::vector<std::pair<std::int32_t, std::int64_t>> finished_days;
        std::map<std::size_t, Backfill> backfill;
        // The rules over the entry, under its partition lock.
        auto apply_rules = [&](shared::UserEntry* e) {
            const TransactionId xid = call([] { return GetCurrentTransactionId(); });
            // The row's distinct patients in the rate window: exact, or 0 when the cheap bound
            // says it is below the threshold; computed only when an event is raised if the
            // threshold is certainly reached.
            std::size_t in_window = 0;
            const rules::RateSlots* window_prev = nullptr;
            const rules::RateSlots* window_cur = nullptr;
            std::int64_t window_t = 0;
            auto row_window = [&]() {
                if (window_cur) {
                    in_window = rules::distinct_in_window(window_prev, *window_cur, window_t, p.window);
                    window_cur = nullptr;
                }
                return in_window;
            };
            auto fire = [&](rules::Rule rule, std::size_t i, std::int64_t key, std::int64_t today,
                            const rules::BaselineStats* stats) {
                shared::OpenSlot& s = e->open[static_cast<int>(rule)];
                const bool alive = call([&] { return shared::slot_alive(s); });
                rules::OpenEvent ev{s.event_id, s.window_key, s.first_access, s.last_access, s.access_count};
                if (alive && rules::extends(rule, ev, rows[i].t, key, p.window)) {
                    rules::absorb(ev, rows[i].t);
                    s.first_access = ev.first_access;
                    s.last_access = ev.last_access;
                    s.access_count = ev.access_count;
                    if (s.event_id != 0 && s.access_count - s.persisted_count >= kPersistEvery) {
                        persists.push_back({s.event_id, rule, s});
                        s.persisted_count = s.access_count;
                    }
                    return;
                }
                if (alive && s.event_id != 0 && s.access_count != s.persisted_count)
                    persists.push_back({s.event_id, rule, s});  // the superseded event's final count
                s = shared::OpenSlot{true, xid, 0, key, rows[i].t, rows[i].t, 1, 0};
                Raise rs{rule, i, row_window(), today, stats ? *stats : rules::BaselineStats{}, stats != nullptr};
                raises.push_back(rs);
            };
            for (std::size_t i = begin; i < end; ++i) {
                const Row& r = rows[i];
                const Derived& d = der[i - begin];
                in_window = 0;
                window_cur = nullptr;
                std::int64_t today = 0;
                if (r.patient) {
                    auto bf = backfill.find(i);
                    if (bf != backfill.end()) {
                        in_window = bf->second.in_window;
                        today = bf->second.today;
                        if (in_window >= cap) fire(rules::Rule::Rate, i, d.bucket, 0, nullptr);
                        // a day inside the entry's history: keep its count current
                        const std::int64_t idx = d.day - (e->day - shared::kHistoryDays);
                        if (idx >= 0 && idx < shared::kHistoryDays)
                            e->history[idx] = std::max<std::int32_t>(e->history[idx], static_cast<std::int32_t>(today));
                        if (rules::above_baseline(bf->second.stats, today, p.sigma, p.min_days))
                            fire(rules::Rule::Baseline, i, d.day, today, &bf->second.stats);
                    } else {
                        // rate
                        if (d.bucket > e->buckets[0].bucket) {
                            if (d.bucket == e->buckets[0].bucket + 1) e->buckets[1] = e->buckets[0];
                            else e->buckets[1].reset(d.bucket - 1);
                            e->buckets[0].reset(d.bucket);
                        }
                        // (a row another backend has just moved behind: judged on the bucket it has)
                        rules::RateSlots& cur = d.bucket == e->buckets[1].bucket ? e->buckets[1] : e->buckets[0];
                        const rules::RateSlots* prev =
                            (&cur == &e->buckets[0] && e->buckets[1].bucket == d.bucket - 1) ? &e->buckets[1] : nullptr;
                        cur.touch(*r.patient, r.t, cap);
                        if (cur.count >= cap && cur.max_seen <= r.t && cur.min_seen > r.t - p.window) {
                            // Every patient the bucket holds lies in (t - window, t]: the
                            // threshold is reached without counting.
                            window_prev = prev;
                            window_cur = &cur;
                            window_t = r.t;
                            fire(rules::Rule::Rate, i, d.bucket, 0, nullptr);
                        } else if (cur.count + (prev ? prev->count : 0) >= cap &&
                                   rules::in_window_upper_bound(prev, cur, r.t, p.window) >= cap) {
                            in_window = rules::distinct_in_window(prev, cur, r.t, p.window);
                            if (in_window >= cap) fire(rules::Rule::Rate, i, d.bucket, 0, nullptr);
                        }
                        // baseline
                        if (d.day > e->day) roll_day(*e, d.day, &finished_days);
                        e->today.add(*r.patient);
                        today = e->today.estimate();
                        const rules::BaselineStats stats = stats_of(*e);
                        if (rules::above_baseline(stats, today, p.sigma, p.min_days))
                            fire(rules::Rule::Baseline, i, d.day, today, &stats);
                    }
                }
                // cross-practice (and unknown users)
                if (!acct.known) {
                    fire(rules::Rule::CrossPractice, i, 0, today, nullptr);
                } else if (r.practice && !exempt(p, acct) && (!acct.practice || *acct.practice != *r.practice)) {
                    fire(rules::Rule::CrossPractice, i, 0, today, nullptr);
                }
                // unusual hours
                if (p.hours && p.hours->contains(rules::minute_of_day(d.local)))
                    fire(rules::Rule::UnusualHours, i, rules::night_key(d.local, p.hours->start_minute), today, nullptr);
            }
        };

        // 1. the entry (loaded outside the lock when missing), the rows behind it; the
        //    common case (an entry, nothing behind it) is judged under this first lock
        bool have_entry = false;
        bool judged = false;
        std::vector<std::size_t> behind;
        {
            PartitionLock lock(user);
            if (shared::UserEntry* e = shared::find(user, relid)) {
                have_entry = true;
                for (std::size_t i = begin; i < end; ++i)
                    if (rows[i].patient &&
                        (der[i - begin].bucket < e->buckets[0].bucket || der[i - begin].day < e->day))
                        behind.push_back(i);
                if (behind.empty()) {
                    apply_rules(e);
                    judged = true;
                }
            }
        }
        if (!have_entry) {
            need_spi();
            auto loaded = std::make_unique<shared::UserEntry>();
            std::vector<std::int64_t> ids;
            for (std::size_t i = begin; i < end; ++i) ids.push_back(rows[i].id);
            load_entry(*loaded, user, newest.bucket, newest.day, zone_name(), p, ids);
            // A full table first frees what dropped databases and extensions left behind.
            bool full = false;
            {
                PartitionLock lock(user);
                full = !shared::find(user, relid) && shared::users_in_use() >= shared::kUsers;
            }
            if (full) call([&] { shared::evict_stale(relid); });
            PartitionLock lock(user);
            shared::UserEntry* e = shared::find(user, relid);
            if (!e) {
                e = shared::insert(user);
                if (e) {
                    std::memcpy(reinterpret_cast<char*>(e) + sizeof(shared::UserKey),
                                reinterpret_cast<const char*>(loaded.get()) + sizeof(shared::UserKey),
                                sizeof(shared::UserEntry) - sizeof(shared::UserKey));
                    e->relid = relid;
                }
            }
            if (!e) {  // the shared table is full: this user is judged on the table path
                for (std::size_t i = begin; i < end; ++i) table_path_rows->push_back(rows[i]);
                begin = end;
                continue;
            }
            for (std::size_t i = begin; i < end; ++i)
                if (rows[i].patient && (der[i - begin].bucket < e->buckets[0].bucket || der[i - begin].day < e->day))
                    behind.push_back(i);
        }
        if (!behind.empty()) {
            need_spi();
            for (std::size_t i : behind) backfill[i] = backfill_inputs(user, rows[i], der[i - begin].day, zone_name(), p);
        }

        // 2. otherwise the rules under a second lock, with the back-filled rows' inputs
        if (!judged) {
            PartitionLock lock(user);
            shared::UserEntry* e = shared::find(user, relid);
            if (!e) throw core::Error(core::ErrorKind::Internal, "PHI shared entry vanished");
            apply_rules(e);
        }

        // 3. what needs a table
        if (!raises.empty() || !persists.empty() || !finished_days.empty()) {
            need_spi();
            if (!raises.empty()) raise_events(user, relid, rows, raises, acct, zone_name(), p);
            if (!persists.empty()) persist_counts(persists);
            if (!finished_days.empty()) record_days(user, finished_days);
        }
        begin = end;
    }

    // 4. the seal ring, and now and then a seal
    constexpr std::size_t kSmallRing = 8;
    shared::RingItem items_small[kSmallRing];
    std::vector<shared::RingItem> items_large;
    if (rows.size() > kSmallRing) items_large.resize(rows.size());
    shared::RingItem* const items = rows.size() > kSmallRing ? items_large.data() : items_small;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        items[i] = shared::RingItem{MyDatabaseId, relid, rows[i].id, rows[i].xid, {}};
        std::memcpy(items[i].row_hash, rows[i].row_hash.data(), 32);
    }
    shared::push(items, rows.size());
    const std::int64_t now = call([] { return GetCurrentTimestamp(); });
    if (g_last_seal_try == 0) g_last_seal_try = now;  // a new backend waits its turn too
    if (((shared::ring_count() >= kSealAtRing && now - g_last_seal_try >= kSealRetryUsec) ||
         now - g_last_seal_try >= kSealEveryUsec || shared::needs_rescan())) {
        g_last_seal_try = now;
        need_spi();
        seal(false);
    }
    if (conn) conn->finish();
    return true;
}

}  // namespace vlx::pg::phi
