#include "pg/phi/rule_inputs.hpp"

#include <limits>
#include <set>
#include <unordered_map>

#include "core/error.hpp"
#include "core/settings_catalog.hpp"
#include "pg/datum.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "catalog/namespace.h"
#include "utils/inval.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::phi {

namespace rules = core::phi;
namespace datum = pg::datum;
using core::Error;
using core::ErrorKind;
using core::Setting;

void Privileges::ensure() {
    if (!scope_) scope_.emplace(fcinfo_);
}

void Privileges::planner_settings() {
    ensure();
    if (planner_) return;
    planner_ = true;
    // Key lookups planned once (generic plans), as index lookups whatever the size of the
    // tables when they were planned, never JIT-compiled. Restored with the owner scope.
    call([] {
        const char* names[] = {"plan_cache_mode", "enable_seqscan", "enable_hashjoin", "enable_mergejoin", "jit"};
        const char* values[] = {"force_generic_plan", "off", "off", "off", "off"};
        for (int i = 0; i < 5; ++i)
            set_config_option(names[i], values[i], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    });
}

const Params& read_params() {
    // The list settings are parsed again only when their text changes.
    static Params p;
    static std::string roles_text, hours_text;
    static bool parsed = false;
    const char* r = settings::string(Setting::PhiCrossPracticeRoles);
    const char* h = settings::string(Setting::UnusualHours);
    if (!parsed || roles_text != r || hours_text != h) {
        std::string err;
        roles_text = r;
        hours_text = h;
        p.exempt_roles = core::parse_name_list(r, &err).value_or(std::vector<std::string>{});
        p.hours = core::parse_hours_window(h, &err);
        parsed = true;
    }
    p.threshold = settings::integer(Setting::PhiRateThreshold);
    p.window = settings::interval_us(Setting::PhiRateWindow);
    p.sigma = settings::real(Setting::PhiBaselineSigma);
    p.min_days = settings::integer(Setting::PhiBaselineMinDays);
    return p;
}

namespace {

bool starts_with(const char* s, std::size_t len, const char* prefix) {
    const std::size_t n = std::strlen(prefix);
    return len >= n && std::memcmp(s, prefix, n) == 0;
}

// SPEC §3 bad input, a defined behaviour each: a patient or prescription action without
// its patient (22004), an occurred_at beyond the allowed clock skew (22023).
void validate(const char* action, std::size_t len, bool patient_null, std::int64_t occurred, std::int64_t now,
              std::int64_t skew) {
    if (patient_null && (starts_with(action, len, "patient_") || starts_with(action, len, "prescription_")))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("audit_logs action \"%s\" needs a patient_id", pnstrdup(action, len)),
                        errhint("Patient and prescription actions must name the patient whose PHI was accessed.")));
    if (occurred > now + skew)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("audit_logs occurred_at is in the future"),
                        errdetail("occurred_at may be at most vitaluxe_security.phi_future_skew ahead of the clock."),
                        errhint("Check the writer's clock.")));
}

// Which of `ids` the chain already holds (a superuser's pg_restore of a dumped chain).
std::set<std::int64_t> already_chained(const std::vector<std::int64_t>& ids, Privileges& priv) {
    if (ids.empty()) return {};
    priv.ensure();
    spi::Connection conn;
    std::set<std::int64_t> out = chained_audit_ids(ids);
    conn.finish();
    return out;
}

}  // namespace

std::int64_t chain_max_row_id(Privileges& priv);  // sealer.cpp

std::vector<Row> read_transition_rows(TriggerData* td, Privileges& priv) {
    std::vector<Row> rows;
    const std::int64_t now = call([] { return GetCurrentTransactionStartTimestamp(); }) + settings::clock_offset_us();
    const std::int64_t skew = settings::interval_us(Setting::PhiFutureSkew);
    const auto& cols = columns(Source::AuditLogs);
    call([&] {
        Tuplestorestate* ts = td->tg_newtable;
        if (!ts) elog(ERROR, "vlx_phi_after_insert needs REFERENCING NEW TABLE");
        TupleDesc desc = RelationGetDescr(td->tg_relation);
        // Column numbers, looked up once per relation (a re-created extension has a new one).
        static Oid cached_relid = InvalidOid;
        static std::vector<int> attnums;
        static int c_action = 0;
        static std::size_t p_id, p_t, p_user, p_patient, p_practice, p_ip;
        if (cached_relid != RelationGetRelid(td->tg_relation)) {
            attnums.clear();
            for (const ColSpec& c : cols) {
                const int n = SPI_fnumber(desc, c.name);
                if (n <= 0) elog(ERROR, "audit_logs column \"%s\" is missing", c.name);
                attnums.push_back(n);
            }
            c_action = SPI_fnumber(desc, "action");
            auto pos = [&](const char* name) {
                for (std::size_t i = 0; i < cols.size(); ++i)
                    if (std::strcmp(cols[i].name, name) == 0) return i;
                elog(ERROR, "canonical column %s missing", name);
                return std::size_t(0);
            };
            p_id = pos("id");
            p_t = pos("occurred_at");
            p_user = pos("user_id");
            p_patient = pos("patient_id");
            p_practice = pos("practice_id");
            p_ip = pos("ip_address");
            cached_relid = RelationGetRelid(td->tg_relation);
        }
        const TransactionId xid = GetCurrentTransactionId();
        TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
        static std::vector<std::optional<Datum>> values;  // reused: no allocation per statement
        values.assign(cols.size(), std::nullopt);
        tuplestore_rescan(ts);
        while (tuplestore_gettupleslot(ts, true, false, slot)) {
            for (std::size_t i = 0; i < cols.size(); ++i) {
                bool isnull = false;
                Datum d = slot_getattr(slot, attnums[i], &isnull);
                values[i] = isnull ? std::nullopt : std::optional<Datum>(d);
            }
            Row r;
            r.id = DatumGetInt64(*values[p_id]);
            r.t = DatumGetTimestampTz(*values[p_t]);
            if (values[p_user]) r.user = uuid_of(*values[p_user]);
            if (values[p_patient]) r.patient = uuid_of(*values[p_patient]);
            if (values[p_practice]) r.practice = uuid_of(*values[p_practice]);
            if (values[p_ip]) r.ip = datumCopy(*values[p_ip], false, -1);
            bool action_null = false;
            Datum action = slot_getattr(slot, c_action, &action_null);
            if (!action_null) {
                text* a = DatumGetTextPP(action);
                validate(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a), !r.patient, r.t, now, skew);
            }
            r.row_hash = row_digest(Source::AuditLogs, values);
            r.xid = xid;
            rows.push_back(std::move(r));
        }
        ExecDropSingleTupleTableSlot(slot);
    });
    // Identity ids grow, so new rows lie above what the chain holds; a row at or below
    // it is either a restore (a superuser's COPY with the dumped ids) or an insert that
    // lost a race with a sealer: only those are looked up.
    bool is_super = call([] { return superuser(); });
    if (is_super && !rows.empty()) {
        const std::int64_t max_sealed = chain_max_row_id(priv);
        std::vector<std::int64_t> low;
        for (const Row& r : rows)
            if (r.id <= max_sealed) low.push_back(r.id);
        if (!low.empty()) {
            const std::set<std::int64_t> restored = already_chained(low, priv);
            if (!restored.empty())
                rows.erase(std::remove_if(rows.begin(), rows.end(), [&](const Row& r) { return restored.count(r.id) > 0; }),
                           rows.end());
        }
    }
    return rows;
}

std::vector<Uuid> order_by_user(std::vector<Row>& rows) {
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        if (a.user != b.user) return a.user < b.user;
        if (a.t != b.t) return a.t < b.t;
        return a.id < b.id;
    });
    std::vector<Uuid> users;
    for (const Row& r : rows)
        if (r.user && (users.empty() || users.back() != *r.user)) users.push_back(*r.user);
    return users;
}

// ---- accounts --------------------------------------------------------------------------

namespace {

struct UuidHash {
    std::size_t operator()(const Uuid& u) const noexcept {
        std::uint64_t a, b;
        std::memcpy(&a, u.data(), 8);
        std::memcpy(&b, u.data() + 8, 8);
        return static_cast<std::size_t>((a * 0x9E3779B97F4A7C15ull) ^ b);
    }
};

struct AccountCache {
    std::unordered_map<Uuid, std::shared_ptr<const Account>, UuidHash> entries;
    Oid accounts_oid = InvalidOid;
    std::uint64_t invalidations = 0;
    bool preloaded = false;  // this backend's first miss read a whole batch
};
AccountCache g_accounts;
constexpr std::size_t kAccountCacheMax = 20000;
// A new backend's first miss reads this many accounts at once: one query instead of one
// per user while the cache warms (connection churn would pay it on every connection).
constexpr std::int64_t kAccountPreload = 4096;

void on_relcache(Datum, Oid relid) {
    if (relid == InvalidOid || relid == g_accounts.accounts_oid) {
        g_accounts.entries.clear();
        ++g_accounts.invalidations;
    }
}

}  // namespace

void register_account_cache() { CacheRegisterRelcacheCallback(on_relcache, Datum(0)); }

std::vector<std::shared_ptr<const Account>> accounts_of(const std::vector<Uuid>& users, Privileges& priv) {
    std::vector<std::shared_ptr<const Account>> out(users.size());
    if (g_accounts.accounts_oid == InvalidOid)
        g_accounts.accounts_oid = call([] {
            return get_relname_relid("accounts", get_namespace_oid("security", false));
        });
    std::vector<std::size_t> missing;
    for (std::size_t i = 0; i < users.size(); ++i) {
        auto it = g_accounts.entries.find(users[i]);
        if (it != g_accounts.entries.end()) out[i] = it->second;
        else missing.push_back(i);
    }
    if (missing.empty()) return out;
    const std::uint64_t seen = g_accounts.invalidations;
    priv.ensure();
    spi::Connection conn;
    // the missing users, plus (first miss of the backend) a batch of the others
    static spi::Statement read(
        "SELECT a.user_id, a.role, a.practice_id, a.timezone, a.email"
        "  FROM security.accounts AS a WHERE a.user_id = ANY ($1::uuid[])"
        " UNION"
        " SELECT * FROM (SELECT b.user_id, b.role, b.practice_id, b.timezone, b.email"
        "                  FROM security.accounts AS b LIMIT $2) AS batch",
        {UUIDARRAYOID, INT8OID});
    std::vector<std::optional<Datum>> arr;
    for (std::size_t i : missing) arr.emplace_back(uuid_datum(users[i]));
    spi::Args a(2);
    a.set(0, make_array(UUIDOID, arr));
    a.set(1, Int64GetDatum(g_accounts.preloaded ? 0 : kAccountPreload));
    g_accounts.preloaded = true;
    spi::Rows r = spi::execute(read, a, SPI_OK_SELECT);
    std::map<Uuid, Account> found;
    for (std::uint64_t i = 0; i < r.size(); ++i) {
        Account acc;
        acc.known = true;
        if (auto v = r.get(i, 2)) acc.role = datum::to_string(*v);
        if (auto v = r.get(i, 3)) acc.practice = uuid_of(*v);
        if (auto v = r.get(i, 4)) acc.timezone = datum::to_string(*v);
        if (auto v = r.get(i, 5)) acc.email = datum::to_string(*v);
        found[uuid_of(*r.get(i, 1))] = acc;
    }
    conn.finish();
    const bool cacheable = g_accounts.invalidations == seen;  // no change arrived while reading
    if (g_accounts.entries.size() > kAccountCacheMax) g_accounts.entries.clear();
    for (std::size_t i : missing) {
        // unknown users are cached too
        const Uuid& u = users[i];
        auto acc = std::make_shared<const Account>(found.count(u) ? found[u] : Account{});
        out[i] = acc;
        if (cacheable) g_accounts.entries[u] = acc;
        found.erase(u);
    }
    if (cacheable)  // the rest of the batch
        for (auto& [u, acc] : found) g_accounts.entries.emplace(u, std::make_shared<const Account>(std::move(acc)));
    return out;
}

namespace {

// pg_tzset() folds and hashes the name on every call; a statement's users repeat their
// zones. pg_tz objects live as long as the backend, so the pointers can be kept.
pg_tz* zone_named(const std::string& name) {
    static std::unordered_map<std::string, pg_tz*> known;
    auto it = known.find(name);
    if (it != known.end()) return it->second;
    pg_tz* z = call([&] { return pg_tzset(name.c_str()); });
    if (known.size() >= 256) known.clear();
    known.emplace(name, z);
    return z;
}

}  // namespace

pg_tz* zone_of(const Account& account, std::string* name) {
    if (!account.own_zone_resolved) {
        if (account.timezone && !account.timezone->empty()) account.own_zone = zone_named(*account.timezone);
        account.own_zone_resolved = true;
    }
    pg_tz* z = account.own_zone;
    if (!z) {
        const char* setting = settings::string(Setting::Timezone);
        if (setting && *setting) z = zone_named(setting);
    }
    if (!z) z = session_timezone;
    if (name) *name = call([&] { return pg_get_timezone_name(z); });
    return z;
}

// The zone's UTC offset holds from one transition to the next: remembered per zone from
// the instant asked to the next transition (pg_next_dst_boundary), so a run of accesses
// converts with one lookup.
std::int64_t local_usec(std::int64_t t, pg_tz* tz) {
    struct Span {
        pg_tz* tz = nullptr;
        pg_time_t from = 0, until = 0;  // [from, until) in Unix seconds
        long offset = 0;                // seconds east of UTC
    };
    static Span spans[8];
    const pg_time_t unix_s = static_cast<pg_time_t>(
        core::phi::floor_div(t, USECS_PER_SEC) + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
    Span& s = spans[(reinterpret_cast<std::uintptr_t>(tz) >> 4) % 8];
    if (s.tz != tz || unix_s < s.from || unix_s >= s.until) {
        Span fresh;
        const bool ok = call([&] {
            long before = 0, after = 0;
            int before_dst = 0, after_dst = 0;
            pg_time_t boundary = 0;
            const int r = pg_next_dst_boundary(&unix_s, &before, &before_dst, &boundary, &after, &after_dst, tz);
            if (r < 0) return false;
            fresh = Span{tz, unix_s, r == 0 ? std::numeric_limits<pg_time_t>::max() : boundary, before};
            return true;
        });
        if (!ok) return t;
        s = fresh;
    }
    return t + static_cast<std::int64_t>(s.offset) * USECS_PER_SEC;
}

std::string details_for(rules::Rule rule, const Row& row, const Params& p, const Account& acct,
                        const std::string& tz_name, std::size_t patients_in_window, std::int64_t today,
                        const rules::BaselineStats* stats) {
    std::string j = "{\"rule\":" + datum::json_quote(rules::event_type(rule));
    j += ",\"audit_log_id\":" + std::to_string(row.id);
    j += ",\"first_access\":" + datum::json_quote(iso_utc(row.t));
    switch (rule) {
        case rules::Rule::Rate:
            j += ",\"threshold\":" + std::to_string(p.threshold);
            j += ",\"window_seconds\":" + std::to_string(p.window / rules::kUsecPerSec);
            j += ",\"patients_in_window\":" + std::to_string(patients_in_window);
            break;
        case rules::Rule::CrossPractice:
            j += std::string(",\"unknown_user\":") + (acct.known ? "false" : "true");
            if (acct.known) j += ",\"role\":" + datum::json_quote(acct.role);
            if (!acct.known) j += ",\"reason\":\"user_id not in security.accounts\"";
            break;
        case rules::Rule::UnusualHours:
            j += ",\"timezone\":" + datum::json_quote(tz_name);
            break;
        case rules::Rule::Baseline: {
            char buf[160];
            snprintf(buf, sizeof buf,
                     ",\"today_patients\":%lld,\"days_of_history\":%d,\"mean\":%.2f,\"stddev\":%.2f,\"threshold\":%.2f",
                     static_cast<long long>(today), stats->days, stats->mean, stats->stddev,
                     stats->threshold(p.sigma));
            j += buf;
            j += ",\"timezone\":" + datum::json_quote(tz_name);
            break;
        }
    }
    return j + "}";
}

}  // namespace vlx::pg::phi
