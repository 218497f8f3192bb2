// The PHI access rules (SPEC §3): AFTER INSERT FOR EACH STATEMENT on security.audit_logs,
// over the transition table as a set. Preloaded, the rules run over shared memory
// (shared_path.cpp); otherwise on this file's table path, per statement whatever its
// row count:
//   1. lock the statement's users (advisory, per user, sorted) and read their accounts;
//   2. one read of all their rule state (and the insert of the day's new patients);
//   3. the rules in C++ (src/core/phi), events raised for windows not yet open;
//   4. one write of the changed state plus the seal queue.
// Each statement is prepared once per backend (spi::Statement).
#include <algorithm>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/phi/rules.hpp"
#include "core/settings_catalog.hpp"
#include "core/text_rules.hpp"
#include "pg/datum.hpp"
#include "pg/events.hpp"
#include "pg/phi/pgx.hpp"
#include "pg/phi/rule_inputs.hpp"
#include "pg/phi/shared_path.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

namespace phi = vlx::pg::phi;
namespace rules = vlx::core::phi;
namespace spi = vlx::pg::spi;
namespace datum = vlx::pg::datum;
using vlx::pg::call;
using vlx::core::Error;
using vlx::core::ErrorKind;
using vlx::core::Setting;
using phi::Uuid;

namespace {

using phi::Account;
using phi::Params;
using phi::Row;

int rule_code(rules::Rule r) { return static_cast<int>(r); }

struct Open {
    rules::OpenEvent ev;
    bool open = false;   // the event's status is 'open'
    bool dirty = false;
};

// Backend-local: seal every kSealEvery statements (amortised; verify seals anyway).
constexpr int kSealEvery = 32;
int g_statements_since_seal = 0;

// The table path: `queue` = the rows still need their seal-queue rows.
void judge_on_tables(std::vector<Row> rows, const Params& p, bool queue, phi::Privileges& priv) {
    priv.planner_settings();

    const std::vector<Uuid> users = phi::order_by_user(rows);

    spi::Connection conn;
    std::map<Uuid, Account> accounts;
    std::map<Uuid, std::pair<pg_tz*, std::string>> zones;
    if (!users.empty()) {
        // 1. per-user advisory locks (sorted: no deadlock), accounts
        static spi::Statement lock_accounts(
            "SELECT u.id, a.user_id IS NOT NULL, a.role, a.practice_id, a.timezone, a.email"
            "  FROM pg_catalog.unnest($1::uuid[]) WITH ORDINALITY AS u(id, n)"
            "  CROSS JOIN LATERAL (SELECT pg_catalog.pg_advisory_xact_lock(1986, pg_catalog.hashtext(u.id::text))) AS l"
            "  LEFT JOIN LATERAL (SELECT x.* FROM security.accounts AS x WHERE x.user_id = u.id) AS a ON true"
            " ORDER BY u.n",
            {UUIDARRAYOID});
        std::vector<std::optional<Datum>> uarr;
        for (const Uuid& u : users) uarr.emplace_back(phi::uuid_datum(u));
        spi::Args a1(1);
        a1.set(0, phi::make_array(UUIDOID, uarr));
        spi::Rows acc = spi::execute(lock_accounts, a1, SPI_OK_SELECT);
        for (std::uint64_t i = 0; i < acc.size(); ++i) {
            Account a;
            const Uuid id = phi::uuid_of(*acc.get(i, 1));
            a.known = DatumGetBool(*acc.get(i, 2));
            if (auto v = acc.get(i, 3)) a.role = datum::to_string(*v);
            if (auto v = acc.get(i, 4)) a.practice = phi::uuid_of(*v);
            if (auto v = acc.get(i, 5)) a.timezone = datum::to_string(*v);
            if (auto v = acc.get(i, 6)) a.email = datum::to_string(*v);
            std::string name;
            pg_tz* z = phi::zone_of(a, &name);
            zones[id] = {z, name};
            accounts[id] = a;
        }
    }

    // Local times, days, buckets.
    struct Derived {
        std::int64_t local = 0;
        std::int32_t day = 0;
        std::int64_t bucket = 0;
    };
    std::vector<Derived> der(rows.size());
    std::vector<std::optional<Datum>> np_user, np_day, np_patient, rb_user, rb_bucket, d_user, d_lo, d_hi;
    {
        std::map<Uuid, std::pair<std::int32_t, std::int32_t>> day_range;
        std::set<std::pair<Uuid, std::int64_t>> buckets;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const Row& r = rows[i];
            if (!r.user) continue;
            der[i].local = phi::local_usec(r.t, zones[*r.user].first);
            der[i].day = static_cast<std::int32_t>(rules::local_day(der[i].local));
            der[i].bucket = rules::floor_div(r.t, p.window);
            if (!r.patient) continue;
            np_user.emplace_back(phi::uuid_datum(*r.user));
            np_day.emplace_back(DateADTGetDatum(der[i].day));
            np_patient.emplace_back(phi::uuid_datum(*r.patient));
            buckets.insert({*r.user, der[i].bucket});
            buckets.insert({*r.user, der[i].bucket - 1});
            auto it = day_range.find(*r.user);
            if (it == day_range.end()) day_range[*r.user] = {der[i].day, der[i].day};
            else {
                it->second.first = std::min(it->second.first, der[i].day);
                it->second.second = std::max(it->second.second, der[i].day);
            }
        }
        for (const auto& [u, b] : buckets) {
            rb_user.emplace_back(phi::uuid_datum(u));
            rb_bucket.emplace_back(Int64GetDatum(b));
        }
        for (const auto& [u, range] : day_range) {
            d_user.emplace_back(phi::uuid_datum(u));
            d_lo.emplace_back(DateADTGetDatum(range.first - 30));
            d_hi.emplace_back(DateADTGetDatum(range.second));
        }
    }

    // 2. one read: the day's new patients (inserted), daily counts, rate buckets, open events
    std::set<std::tuple<Uuid, std::int32_t, Uuid>> new_patients;
    std::map<std::pair<Uuid, std::int32_t>, std::int64_t> daily;      // distinct patients per day
    std::map<std::pair<Uuid, std::int32_t>, std::int64_t> daily_delta;
    std::map<std::pair<Uuid, std::int64_t>, std::pair<rules::RateBucket, bool>> buckets;  // bucket, dirty
    std::map<std::pair<Uuid, int>, Open> open;
    if (!users.empty()) {
        static spi::Statement read_state(
            "WITH np AS ("
            "  INSERT INTO security.phi_daily_patients AS p (user_id, day, patient_id)"
            "  SELECT * FROM ROWS FROM (pg_catalog.unnest($1::uuid[]), pg_catalog.unnest($2::date[]), pg_catalog.unnest($3::uuid[]))"
            "  ON CONFLICT DO NOTHING RETURNING p.user_id, p.day, p.patient_id)"
            " SELECT 1, np.user_id, (np.day OPERATOR(pg_catalog.-) date '2000-01-01')::int8, np.patient_id,"
            "        NULL::int8, NULL::int8, NULL::timestamptz, NULL::timestamptz, NULL::bytea, NULL::bool, NULL::text"
            "   FROM np"
            " UNION ALL"
            " SELECT 2, d.user_id, (d.day OPERATOR(pg_catalog.-) date '2000-01-01')::int8, NULL, d.patients::int8,"
            "        NULL, NULL, NULL, NULL, NULL, NULL"
            "   FROM ROWS FROM (pg_catalog.unnest($6::uuid[]), pg_catalog.unnest($7::date[]), pg_catalog.unnest($8::date[])) AS k(u, lo, hi)"
            "  CROSS JOIN LATERAL (SELECT x.* FROM security.phi_daily AS x"
            "                       WHERE x.user_id = k.u AND x.day BETWEEN k.lo AND k.hi) AS d"
            " UNION ALL"
            " SELECT 3, r.user_id, r.bucket, NULL, NULL, NULL, NULL, NULL, r.state, NULL, NULL"
            "   FROM ROWS FROM (pg_catalog.unnest($4::uuid[]), pg_catalog.unnest($5::int8[])) AS k(u, b)"
            "  CROSS JOIN LATERAL (SELECT x.* FROM security.phi_rate_state AS x"
            "                       WHERE x.user_id = k.u AND x.bucket = k.b) AS r"
            " UNION ALL"
            " SELECT 4, s.user_id, s.window_key, NULL, s.event_id, s.access_count, s.first_access, s.last_access,"
            "        NULL, (SELECT e.status = 'open' FROM security.security_events AS e WHERE e.id = s.event_id), s.rule"
            "   FROM pg_catalog.unnest($9::uuid[]) AS k(u)"
            "  CROSS JOIN (VALUES ('phi_access_rate'), ('phi_cross_practice'), ('phi_unusual_hours'),"
            "                     ('phi_baseline_deviation')) AS rr(rule)"
            "  CROSS JOIN LATERAL (SELECT x.* FROM security.phi_event_state AS x"
            "                       WHERE x.user_id = k.u AND x.rule = rr.rule"
            "                       ORDER BY x.event_id DESC LIMIT 1) AS s",
            {UUIDARRAYOID, DATEARRAYOID, UUIDARRAYOID, UUIDARRAYOID, INT8ARRAYOID, UUIDARRAYOID, DATEARRAYOID,
             DATEARRAYOID, UUIDARRAYOID});
        std::vector<std::optional<Datum>> uarr;
        for (const Uuid& u : users) uarr.emplace_back(phi::uuid_datum(u));
        spi::Args a2(9);
        a2.set(0, phi::make_array(UUIDOID, np_user));
        a2.set(1, phi::make_array(DATEOID, np_day));
        a2.set(2, phi::make_array(UUIDOID, np_patient));
        a2.set(3, phi::make_array(UUIDOID, rb_user));
        a2.set(4, phi::make_array(INT8OID, rb_bucket));
        a2.set(5, phi::make_array(UUIDOID, d_user));
        a2.set(6, phi::make_array(DATEOID, d_lo));
        a2.set(7, phi::make_array(DATEOID, d_hi));
        a2.set(8, phi::make_array(UUIDOID, uarr));
        spi::Rows st = spi::execute(read_state, a2, SPI_OK_SELECT);
        for (std::uint64_t i = 0; i < st.size(); ++i) {
            const int kind = DatumGetInt32(*st.get(i, 1));
            const Uuid u = phi::uuid_of(*st.get(i, 2));
            const std::int64_t k = DatumGetInt64(*st.get(i, 3));
            switch (kind) {
                case 1: new_patients.insert({u, static_cast<std::int32_t>(k), phi::uuid_of(*st.get(i, 4))}); break;
                case 2: daily[{u, static_cast<std::int32_t>(k)}] = DatumGetInt64(*st.get(i, 5)); break;
                case 3: {
                    std::string blob = call([&] {
                        bytea* b = DatumGetByteaPP(*st.get(i, 9));
                        return std::string(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
                    });
                    buckets[{u, k}] = {rules::RateBucket::decode(blob), false};
                    break;
                }
                case 4: {
                    auto rule = rules::rule_from_event_type(datum::to_string(*st.get(i, 11)));
                    if (!rule) break;
                    Open o;
                    o.ev.event_id = DatumGetInt64(*st.get(i, 5));
                    o.ev.access_count = DatumGetInt64(*st.get(i, 6));
                    o.ev.first_access = DatumGetTimestampTz(*st.get(i, 7));
                    o.ev.last_access = DatumGetTimestampTz(*st.get(i, 8));
                    o.ev.window_key = k;
                    o.open = DatumGetBool(*st.get(i, 10));
                    open[{u, rule_code(*rule)}] = o;
                    break;
                }
                default: break;
            }
        }
    }

    // 3. the rules
    auto fire = [&](rules::Rule rule, const Row& row, const Account& acct, std::int64_t key,
                    std::size_t in_window, std::int64_t today, const rules::BaselineStats* stats) {
        Open& o = open[{*row.user, rule_code(rule)}];
        if (o.ev.event_id != 0 && o.open && rules::extends(rule, o.ev, row.t, key, p.window)) {
            rules::absorb(o.ev, row.t);
            o.dirty = true;
            return;
        }
        vlx::pg::events::Event e;
        e.event_type = rules::event_type(rule);
        e.severity = rules::severity(rule);
        e.user_id = phi::uuid_datum(*row.user);
        e.email = acct.email;
        e.ip_address = row.ip;
        e.attempt_count = rule == rules::Rule::Rate ? static_cast<int>(in_window) : 1;
        e.details_json = phi::details_for(rule, row, p, acct, zones[*row.user].second, in_window, today, stats);
        e.occurred_at = row.t;
        const std::int64_t id = vlx::pg::events::raise(e);
        o = Open{};
        o.ev = rules::OpenEvent{id, key, row.t, row.t, 1};
        o.open = true;
        o.dirty = true;
    };

    std::set<std::tuple<Uuid, std::int32_t, Uuid>> counted;
    std::vector<std::optional<Datum>> queue_ids, queue_hashes;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Row& r = rows[i];
        if (queue) {
            queue_ids.emplace_back(Int64GetDatum(r.id));
            queue_hashes.emplace_back(phi::digest_datum(r.row_hash));
        }
        if (!r.user) continue;  // no user to judge: logged and chained only
        const Account& acct = accounts[*r.user];
        const Derived& d = der[i];

        std::size_t in_window = 0;
        std::int64_t today = 0;
        if (r.patient) {
            // rate
            auto& cur = buckets[{*r.user, d.bucket}];
            cur.first.touch(*r.patient, r.t, static_cast<std::size_t>(p.threshold));
            cur.second = true;
            auto prev = buckets.find({*r.user, d.bucket - 1});
            in_window = rules::distinct_in_window(prev == buckets.end() ? nullptr : &prev->second.first, cur.first,
                                                  r.t, p.window);
            if (in_window >= static_cast<std::size_t>(p.threshold))
                fire(rules::Rule::Rate, r, acct, d.bucket, in_window, 0, nullptr);
            // baseline: today's distinct patients (local day)
            const auto key = std::make_tuple(*r.user, d.day, *r.patient);
            if (new_patients.count(key) && !counted.count(key)) {
                counted.insert(key);
                daily[{*r.user, d.day}] += 1;
                daily_delta[{*r.user, d.day}] += 1;
            }
            today = daily[{*r.user, d.day}];
            std::vector<std::int64_t> history;
            for (auto it = daily.lower_bound({*r.user, d.day - 30}); it != daily.end() && it->first.first == *r.user &&
                                                                   it->first.second < d.day;
                 ++it)
                if (it->second > 0) history.push_back(it->second);
            const rules::BaselineStats stats = rules::baseline(history);
            if (rules::above_baseline(stats, today, p.sigma, p.min_days))
                fire(rules::Rule::Baseline, r, acct, d.day, in_window, today, &stats);
        }
        // cross-practice (and unknown users)
        if (!acct.known) {
            fire(rules::Rule::CrossPractice, r, acct, 0, in_window, today, nullptr);
        } else if (r.practice && std::find(p.exempt_roles.begin(), p.exempt_roles.end(), acct.role) ==
                                     p.exempt_roles.end()) {
            if (!acct.practice || *acct.practice != *r.practice)
                fire(rules::Rule::CrossPractice, r, acct, 0, in_window, today, nullptr);
        }
        // unusual hours
        if (p.hours && p.hours->contains(rules::minute_of_day(d.local)))
            fire(rules::Rule::UnusualHours, r, acct, rules::night_key(d.local, p.hours->start_minute), in_window,
                 today, nullptr);
    }

    // 4. one write
    std::vector<std::optional<Datum>> w_ru, w_rb, w_rs, w_du, w_dd, w_dn, w_oe, w_ou, w_or, w_ok, w_of, w_ol, w_oc;
    for (const auto& [key, val] : buckets) {
        if (!val.second) continue;
        const std::string blob = val.first.encode();
        w_ru.emplace_back(phi::uuid_datum(key.first));
        w_rb.emplace_back(Int64GetDatum(key.second));
        w_rs.emplace_back(phi::bytea_datum(reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()));
    }
    for (const auto& [key, delta] : daily_delta) {
        w_du.emplace_back(phi::uuid_datum(key.first));
        w_dd.emplace_back(DateADTGetDatum(key.second));
        w_dn.emplace_back(Int32GetDatum(static_cast<std::int32_t>(delta)));
    }
    for (const auto& [key, o] : open) {
        if (!o.dirty) continue;
        w_oe.emplace_back(Int64GetDatum(o.ev.event_id));
        w_ou.emplace_back(phi::uuid_datum(key.first));
        w_or.emplace_back(datum::make_text(rules::event_type(static_cast<rules::Rule>(key.second))));
        w_ok.emplace_back(Int64GetDatum(o.ev.window_key));
        w_of.emplace_back(TimestampTzGetDatum(o.ev.first_access));
        w_ol.emplace_back(TimestampTzGetDatum(o.ev.last_access));
        w_oc.emplace_back(Int64GetDatum(o.ev.access_count));
    }
    static spi::Statement write_state(
        "WITH r AS (INSERT INTO security.phi_rate_state AS s (user_id, bucket, state)"
        "           SELECT * FROM ROWS FROM (pg_catalog.unnest($1::uuid[]), pg_catalog.unnest($2::int8[]), pg_catalog.unnest($3::bytea[]))"
        "           ON CONFLICT (user_id, bucket) DO UPDATE SET state = excluded.state RETURNING 1),"
        " d AS (INSERT INTO security.phi_daily AS s (user_id, day, patients)"
        "           SELECT * FROM ROWS FROM (pg_catalog.unnest($4::uuid[]), pg_catalog.unnest($5::date[]), pg_catalog.unnest($6::int4[]))"
        "           ON CONFLICT (user_id, day) DO UPDATE"
        "           SET patients = s.patients OPERATOR(pg_catalog.+) excluded.patients RETURNING 1),"
        " o AS (INSERT INTO security.phi_event_state AS s"
        "           (event_id, user_id, rule, window_key, first_access, last_access, access_count)"
        "           SELECT * FROM ROWS FROM (pg_catalog.unnest($7::int8[]), pg_catalog.unnest($8::uuid[]), pg_catalog.unnest($9::text[]),"
        "              pg_catalog.unnest($10::int8[]), pg_catalog.unnest($11::timestamptz[]),"
        "              pg_catalog.unnest($12::timestamptz[]), pg_catalog.unnest($13::int8[]))"
        "           ON CONFLICT (event_id) DO UPDATE SET first_access = excluded.first_access,"
        "              last_access = excluded.last_access, access_count = excluded.access_count RETURNING 1),"
        " q AS (INSERT INTO security.audit_seal_queue (source, row_id, row_hash)"
        "           SELECT 1, x, h FROM ROWS FROM (pg_catalog.unnest($14::int8[]), pg_catalog.unnest($15::bytea[])) AS u(x, h) RETURNING 1)"
        " SELECT (SELECT pg_catalog.count(*) FROM r), (SELECT pg_catalog.count(*) FROM d),"
        "        (SELECT pg_catalog.count(*) FROM o), (SELECT pg_catalog.count(*) FROM q)",
        {UUIDARRAYOID, INT8ARRAYOID, BYTEAARRAYOID, UUIDARRAYOID, DATEARRAYOID, INT4ARRAYOID, INT8ARRAYOID,
         UUIDARRAYOID, TEXTARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID,
         INT8ARRAYOID, BYTEAARRAYOID});
    spi::Args a3(15);
    a3.set(0, phi::make_array(UUIDOID, w_ru));
    a3.set(1, phi::make_array(INT8OID, w_rb));
    a3.set(2, phi::make_array(BYTEAOID, w_rs));
    a3.set(3, phi::make_array(UUIDOID, w_du));
    a3.set(4, phi::make_array(DATEOID, w_dd));
    a3.set(5, phi::make_array(INT4OID, w_dn));
    a3.set(6, phi::make_array(INT8OID, w_oe));
    a3.set(7, phi::make_array(UUIDOID, w_ou));
    a3.set(8, phi::make_array(TEXTOID, w_or));
    a3.set(9, phi::make_array(INT8OID, w_ok));
    a3.set(10, phi::make_array(TIMESTAMPTZOID, w_of));
    a3.set(11, phi::make_array(TIMESTAMPTZOID, w_ol));
    a3.set(12, phi::make_array(INT8OID, w_oc));
    a3.set(13, phi::make_array(INT8OID, queue_ids));
    a3.set(14, phi::make_array(BYTEAOID, queue_hashes));
    spi::execute(write_state, a3, SPI_OK_SELECT);

    // Every kSealEvery statements, and after any large statement (bulk loads seal as
    // they go instead of leaving a backlog).
    if (++g_statements_since_seal >= kSealEvery || rows.size() >= 1000) {
        g_statements_since_seal = 0;
        phi::seal(false);
    }
    conn.finish();
}

}  // namespace

VLX_FUNCTION(vlx_phi_after_insert) {
    if (!CALLED_AS_TRIGGER(fcinfo)) throw Error(ErrorKind::Internal, "vlx_phi_after_insert must be a trigger");
    TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
    phi::Privileges priv(fcinfo);
    std::vector<Row> rows = phi::read_transition_rows(td, priv);
    if (!rows.empty()) {
        const Params& p = phi::read_params();
        std::vector<Row> leftover;
        if (phi::judge_in_shared_memory(rows, p, RelationGetRelid(td->tg_relation), priv, &leftover)) {
            if (!leftover.empty()) judge_on_tables(std::move(leftover), p, false, priv);
        } else {
            judge_on_tables(std::move(rows), p, true, priv);
        }
    }
    priv.end();
    return PointerGetDatum(nullptr);
}
