// The sealer: appends committed, not yet chained audit rows to the chain in seal order,
// one security.audit_chain_block row per seal: link(n) = SHA-256(link(n-1) || row_hash(n)).
// Sources of new rows:
//  * the shared ring (preloaded): (id, xid, hash) pushed by the insert trigger; an item is
//    sealed once its (sub)transaction committed, kept while it runs, dropped if it aborted,
//    so transactions committing out of id order are chained in the order they commit;
//  * the table queue security.audit_seal_queue (without preload, and for security_events);
//  * a rescan of the table after the ring lost items (server start, crash reset, a full
//    ring, a sealing transaction that rolled back): every unchained row newer than the
//    horizon recorded by the last committed seal.
// One sealer at a time (a transaction-level advisory lock); an inserting statement only
// tries the lock and skips when another sealer holds it, so writers never queue on it.
#include <set>

#include "core/audit/canonical.hpp"
#include "core/error.hpp"
#include "pg/phi/chain_store.hpp"
#include "pg/phi/pgx.hpp"
#include "pg/phi/rule_inputs.hpp"
#include "pg/phi/shared_state.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "access/transam.h"
#include "storage/procarray.h"
#include "catalog/namespace.h"
#include "utils/lsyscache.h"
#include "utils/xid8.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::phi {

using core::Error;
using core::ErrorKind;

namespace {

constexpr std::int64_t kSealBatch = 10000;

// Did this transaction take items out of the ring? If it rolls back, its chain rows go
// with it: the next sealer rescans.
bool g_took_from_ring = false;
bool g_callbacks = false;

void on_xact(XactEvent event, void*) {
    if ((event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) && g_took_from_ring && shared::available())
        shared::lose_items();
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PREPARE)
        g_took_from_ring = false;
}

void on_subxact(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
    if (event == SUBXACT_EVENT_ABORT_SUB && g_took_from_ring && shared::available()) shared::lose_items();
}

void register_callbacks() {
    if (g_callbacks) return;
    call([] {
        RegisterXactCallback(on_xact, nullptr);
        RegisterSubXactCallback(on_subxact, nullptr);
    });
    g_callbacks = true;
}

struct Item {
    std::int16_t source;
    std::int64_t row_id;
    core::Sha256Digest row_hash;
};

// The ring's committed items and this transaction's own; the running ones go back,
// aborted ones go.
std::vector<Item> take_committed_from_ring() {
    std::vector<Item> out;
    if (!shared::available()) return out;
    std::vector<shared::RingItem> all = shared::take_mine();
    if (all.empty()) return out;
    g_took_from_ring = true;  // from here an error loses them: the rollback asks for a rescan
    const Oid relid = call([] { return get_relname_relid("audit_logs", get_namespace_oid("security", false)); });
    std::vector<shared::RingItem> keep;
    call([&] {
        for (const shared::RingItem& it : all) {
            if (it.relid != relid) continue;  // of a dropped extension: its table is gone
            // Our own rows are sealed with us: the chain rows commit or roll back with them.
            const bool own = TransactionIdIsCurrentTransactionId(it.xid);
            if (!own && TransactionIdIsInProgress(it.xid)) {
                keep.push_back(it);
            } else if (own || TransactionIdDidCommit(it.xid)) {
                Item x{1, it.row_id, {}};
                std::memcpy(x.row_hash.data(), it.row_hash, 32);
                out.push_back(x);
            }  // else: rolled back (or lost in a crash): the row does not exist
        }
    });
    shared::put_back(keep);
    return out;
}

// Unchained audit_logs rows the ring no longer knows about.
std::vector<Item> rescan() {
    static spi::Statement horizon("SELECT s.horizon FROM security.audit_seal_state AS s", {});
    spi::Args none(0);
    std::optional<Datum> h;
    {
        spi::Rows r = spi::execute(horizon, none, SPI_OK_SELECT);
        if (!r.empty()) h = r.get(0, 1);
    }
    // Canonical columns, then the anti-joins. age() on the 32-bit xmin: the rows written
    // since the horizon are the young ones (frozen rows are old by definition).
    // (the columns of columns(Source::AuditLogs), in its order)
    static spi::Statement since(
        "SELECT a.id, a.occurred_at, a.user_id, a.user_email, a.session_id, a.action, a.entity_type,"
        "       a.entity_id, a.patient_id, a.practice_id, a.ip_address, a.details, a.recorded_at"
            " FROM security.audit_logs AS a"
            " WHERE ($1::xid8 IS NULL OR pg_catalog.age(a.xmin) <= pg_catalog.age(pg_catalog.xid($1::xid8)))"
            "   AND NOT EXISTS (SELECT 1 FROM security.audit_seal_queue AS q WHERE q.source = 1 AND q.row_id = a.id)"
            " ORDER BY a.id",
        {XID8OID});
    spi::Args a(1);
    if (h) a.set(0, *h);
    else a.set_null(0);
    spi::Rows r = spi::execute(since, a, SPI_OK_SELECT);
    std::vector<Item> out;
    const std::size_t n = columns(Source::AuditLogs).size();
    for (std::uint64_t i = 0; i < r.size(); ++i) {
        std::vector<std::optional<Datum>> values(n);
        for (std::size_t k = 0; k < n; ++k) values[k] = r.get(i, static_cast<int>(k) + 1);
        out.push_back(Item{1, DatumGetInt64(*values[0]), row_digest(Source::AuditLogs, values)});
    }
    return out;
}

// Drops audit_logs items whose row the chain already holds (ring items a rescan chained,
// rows a rescan finds that the ring delivered, queue rows of restored data).
void drop_chained(std::vector<Item>& items) {
    std::vector<std::int64_t> ids;
    for (const Item& it : items)
        if (it.source == 1) ids.push_back(it.row_id);
    if (ids.empty()) return;
    const std::set<std::int64_t> in_chain = chained_audit_ids(ids);
    if (in_chain.empty()) return;
    items.erase(std::remove_if(items.begin(), items.end(),
                               [&](const Item& it) { return it.source == 1 && in_chain.count(it.row_id) > 0; }),
                items.end());
}

}  // namespace

std::int64_t chain_max_row_id(Privileges& priv) {
    if (shared::available()) {
        const std::int64_t known = shared::max_sealed_id();
        if (known >= 0) return known;
    }
    priv.ensure();
    spi::Connection conn;
    static spi::Statement max_id(
        "SELECT coalesce((SELECT s.max_audit_id FROM security.audit_seal_state AS s), 0)", {});
    spi::Args none(0);
    spi::Rows r = spi::execute(max_id, none, SPI_OK_SELECT);
    const std::int64_t v = DatumGetInt64(*r.get(0, 1));
    conn.finish();
    if (shared::available()) shared::note_sealed_id(v);
    return v;
}

std::int64_t seal(bool wait) {
    if (XactIsoLevel != XACT_READ_COMMITTED) {
        if (!wait) return 0;
        throw Error(ErrorKind::ConfigurationMissing, "sealing the audit chain needs a READ COMMITTED transaction",
                    "Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot may predate the chain's head.",
                    "Run it outside an explicit REPEATABLE READ / SERIALIZABLE transaction.");
    }
    register_callbacks();
    static spi::Statement try_lock("SELECT pg_catalog.pg_try_advisory_xact_lock(1986, 7)", {});
    static spi::Statement lock("SELECT pg_catalog.pg_advisory_xact_lock(1986, 7)", {});
    spi::Args none(0);
    if (wait) {
        spi::execute(lock, none, SPI_OK_SELECT);
    } else {
        spi::Rows r = spi::execute(try_lock, none, SPI_OK_SELECT);
        if (!DatumGetBool(*r.get(0, 1))) return 0;
    }
    static spi::Statement take_queue(
        "WITH q AS (DELETE FROM security.audit_seal_queue AS d"
        "            WHERE d.ctid = ANY (ARRAY(SELECT x.ctid FROM security.audit_seal_queue AS x LIMIT $1))"
        "            RETURNING d.source, d.row_id, d.row_hash) "
        "SELECT q.source, q.row_id, CASE q.source WHEN 1 THEN q.row_hash"
        "  ELSE (SELECT e.row_hash FROM security.security_events AS e WHERE e.id = q.row_id) END"
        "  FROM q ORDER BY q.source, q.row_id",
        {INT8OID});
    // After the lock, in a new statement (a new READ COMMITTED snapshot): every chain row
    // a previous sealer committed is visible, so the head read is the real head. The
    // snapshot's xmin, taken before the ring is read, is this seal's horizon: a row the
    // ring has not delivered yet belongs to a transaction running at that point.
    static spi::Statement head(
        "SELECT coalesce((SELECT b.seq_last FROM security.audit_chain_block AS b ORDER BY b.seq_first DESC LIMIT 1),"
        "                (SELECT a.seq FROM security.audit_chain_anchor AS a), 0),"
        "       coalesce((SELECT b.link FROM security.audit_chain_block AS b ORDER BY b.seq_first DESC LIMIT 1),"
        "                (SELECT a.link FROM security.audit_chain_anchor AS a)),"
        "       pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())",
        {});
    std::int64_t total = 0;
    for (;;) {
        spi::Rows h = spi::execute(head, none, SPI_OK_SELECT);
        std::int64_t seq = DatumGetInt64(*h.get(0, 1));
        core::Sha256Digest link = core::audit::genesis();
        if (auto l = h.get(0, 2)) link = digest_of(*l);
        const Datum horizon = *h.get(0, 3);

        std::vector<Item> items;
        {
            spi::Args limit(1);
            limit.set(0, Int64GetDatum(kSealBatch));
            spi::Rows queued = spi::execute(take_queue, limit, SPI_OK_SELECT);
            for (std::uint64_t i = 0; i < queued.size(); ++i) {
                Item it{DatumGetInt16(*queued.get(i, 1)), DatumGetInt64(*queued.get(i, 2)), core::Sha256Digest{}};
                if (auto hh = queued.get(i, 3)) it.row_hash = digest_of(*hh);  // missing row: zeros, verify flags it
                items.push_back(it);
            }
            drop_chained(items);
        }
        std::vector<Item> ring = take_committed_from_ring();
        if (shared::available() && TransactionIdIsValid(shared::rescan_xid())) {
            drop_chained(ring);
            // Every transaction before the rescan has ended and its items were taken now.
            const TransactionId xmin = XidFromFullTransactionId(DatumGetFullTransactionId(horizon));
            if (TransactionIdFollowsOrEquals(xmin, shared::rescan_xid())) shared::clear_rescan_xid();
        }
        if (shared::available() && shared::needs_rescan()) {
            // The generation is read first: an item lost while we scan asks for another.
            const std::uint64_t generation = shared::begin_rescan();
            g_took_from_ring = true;  // a rollback of this seal must rescan again
            std::vector<Item> found = rescan();
            drop_chained(found);
            shared::end_rescan(generation, ReadNextTransactionId());
            std::set<std::int64_t> from_ring;
            for (const Item& it : ring) from_ring.insert(it.row_id);
            for (const Item& it : found)
                if (!from_ring.count(it.row_id)) ring.push_back(it);
        }
        items.insert(items.end(), ring.begin(), ring.end());
        if (items.empty()) return total;
        // Everything here has committed: any order is a valid seal order; (source, id)
        // makes it deterministic.
        std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
            return a.source != b.source ? a.source < b.source : a.row_id < b.row_id;
        });

        std::vector<core::audit::BlockEntry> entries;
        entries.reserve(items.size());
        std::int64_t max_audit_id = -1;
        for (const Item& it : items) {
            entries.push_back(core::audit::BlockEntry{it.source, it.row_id, it.row_hash, false});
            if (it.source == 1) max_audit_id = std::max(max_audit_id, it.row_id);
        }
        chain::append(seq + 1, link, entries, horizon);
        if (max_audit_id >= 0 && shared::available()) shared::note_sealed_id(max_audit_id);
        total += static_cast<std::int64_t>(items.size());
        // An insert pays for one batch at most; verify and purge (wait) seal everything.
        if (!wait || items.size() < static_cast<std::size_t>(kSealBatch)) return total;
    }
}

}  // namespace vlx::pg::phi
