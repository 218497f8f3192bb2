// Shared memory of the PHI audit path (only with shared_preload_libraries):
//  * per-user rule state (rate buckets, the day's distinct patients, 30 days of history,
//    the open events with their running counts) in a fixed hash of kUsers entries, one
//    LWLock per partition: the hot insert path judges a row without touching a table;
//  * the seal ring: (row id, inserting xid, row hash) of every new audit_logs row, first
//    in the inserting backend's own segment, moved into the ring when the segment is full;
//    the sealer drains both and chains the entries whose transaction committed (in any
//    order), keeping the ones still in progress, so no table row is written per audit row.
// Everything here is plain data: no pointers into a backend, no C++ objects with owners.
#pragma once

#include "core/crypto/sha256.hpp"
#include "core/phi/shared_state.hpp"
#include "pg/phi/pgx.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "storage/lwlock.h"
#include "utils/hsearch.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::phi::shared {

inline constexpr std::size_t kUsers = 2048;      // users with shared state
inline constexpr std::size_t kRingSize = 65536;  // unsealed rows the ring holds
inline constexpr int kPartitions = 16;
inline constexpr int kHistoryDays = 30;

// An open anomaly event of one user for one rule (the de-dup state).
struct OpenSlot {
    bool used;
    TransactionId xid;           // the (sub)transaction that raised it: valid while it commits
    std::int64_t event_id;       // 0 until the raising statement has inserted it
    std::int64_t window_key;
    std::int64_t first_access;
    std::int64_t last_access;
    std::int64_t access_count;
    std::int64_t persisted_count;  // access_count last written to security.phi_event_state
};

// Shared memory is per cluster, the extension per database: entries are keyed by
// database and user, and carry the audit_logs relation they were built for (a dropped and
// re-created extension starts afresh).
struct UserKey {
    Oid database;
    Uuid user;
};

struct UserEntry {
    UserKey key;
    Oid relid;
    std::int32_t day;                     // the local day `today` counts
    std::int32_t history[kHistoryDays];   // distinct patients of day-30 .. day-1
    core::phi::RateSlots buckets[2];      // [0] the newest bucket, [1] the one before it
    core::phi::DaySet today;
    OpenSlot open[4];                     // by core::phi::Rule
};

struct RingItem {
    Oid database;
    Oid relid;
    std::int64_t row_id;
    TransactionId xid;
    std::uint8_t row_hash[32];
};

// Attached (the library was preloaded and the segment exists)?
bool available();

// _PG_init under shared_preload_libraries: installs the request and startup hooks.
void install_hooks();

// The partition lock of a user (held EXCLUSIVE around any read-modify-write of its entry).
LWLock* partition_lock(const Uuid& user);
// Under partition_lock(user): this database's entry for `relid`, or nullptr.
UserEntry* find(const Uuid& user, Oid relid);
// Under partition_lock(user) EXCLUSIVE: the slot for the user in this database (an
// existing entry of another relid is reused), or nullptr when the table is full.
UserEntry* insert(const Uuid& user);
std::size_t users_in_use();
// Frees the entries (and ring items) of dropped databases and of this database's earlier
// extension (another audit_logs relid). Takes every partition lock: call it holding none.
// Returns the entries freed.
std::size_t evict_stale(Oid relid);
// For a full scan (security._phi_shared_*): every partition lock, then the table.
LWLock* partition_lock_at(int partition);
HTAB* users_table();
std::size_t users_refused();  // first accesses that found the table full

// Is the slot an event that is (or is about to be) open: raised by a transaction that
// committed, is ours, or is still in progress? Under the partition lock EXCLUSIVE: a
// committed raiser is forgotten (later checks cost nothing), an aborted one frees the slot.
bool slot_alive(OpenSlot& slot);
// An event left the 'open' status (resolve_event, triage): it no longer absorbs accesses.
void forget_event(const Uuid& user, std::int64_t event_id);
inline constexpr int kDatabases = 64;  // databases with seal bookkeeping (more share a slot's fate: rescan)

// The ring. push() never blocks on a full ring: it drops the item and marks the ring
// for a rescan (the sealer then finds the row in the table).
void push(const RingItem* items, std::size_t n);
inline void push(const std::vector<RingItem>& items) { push(items.data(), items.size()); }
// This database's items (others stay in the ring).
std::vector<RingItem> take_mine();
void put_back(const std::vector<RingItem>& items);
std::size_t ring_count();
// Per database: has the ring lost items since this database last rescanned? A rescan
// starts with begin_rescan() (returns the loss generation it covers) and ends with
// end_rescan(generation, next_xid).
bool needs_rescan();
std::uint64_t begin_rescan();
void end_rescan(std::uint64_t generation, TransactionId next_xid);
void lose_items();  // every database rescans
// After a rescan: ring items of transactions before this xid may already be chained
// (InvalidTransactionId: none).
TransactionId rescan_xid();
void clear_rescan_xid();
// Highest audit_logs id this database's chain holds, -1 when not known yet.
std::int64_t max_sealed_id();
void note_sealed_id(std::int64_t id);

// For the system_health row and security.phi_shared_state(): usage counters.
struct Usage {
    std::size_t users;
    std::size_t users_capacity;
    std::size_t users_refused;
    std::size_t ring;
    std::size_t ring_capacity;
    std::size_t ring_dropped;
    std::size_t bytes;
};
Usage usage();

}  // namespace vlx::pg::phi::shared
