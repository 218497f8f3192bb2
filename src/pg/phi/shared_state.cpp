#include "pg/phi/shared_state.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
extern "C" {
#include "access/transam.h"
#include "access/twophase.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/spin.h"
#include "storage/shmem.h"
#include "utils/hsearch.h"
#include "utils/syscache.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::phi::shared {

namespace {

constexpr const char* kTranche = "vitaluxe_security_phi";

struct DbState {
    Oid database;                   // InvalidOid: free
    pg_atomic_uint64 rescanned;      // loss generation the last rescan covered
    TransactionId rescan_xid;        // under ring_lock
    pg_atomic_uint64 max_sealed_id;  // + 1 (0: not known yet)
};

struct Header {
    LWLock* ring_lock;
    LWLock* partitions[kPartitions];
    pg_atomic_uint64 loss_generation;  // bumped whenever ring items are lost
    DbState dbs[kDatabases];
    std::uint64_t users_refused;
    // Written by every insert: a cache line of its own, so the read-mostly fields above do
    // not bounce between the inserting backends' caches.
    alignas(64) std::uint32_t ring_count;
    std::uint64_t ring_dropped;
    alignas(64) RingItem ring[kRingSize];
};

// Each backend first queues its new rows in a small segment of its own (indexed by its
// PGPROC number, on cache lines no other inserter writes), so concurrent inserters do not
// all take the ring lock for every statement; a full segment moves into the ring under the
// ring lock. Items move between a segment and the ring only under the ring lock, which
// take_mine() holds while it drains both: no item is ever in neither place.
constexpr std::uint32_t kSegmentItems = 32;
struct alignas(64) Segment {
    slock_t lock;
    std::uint32_t count;
    RingItem items[kSegmentItems];
};

Header* g_header = nullptr;
Segment* g_segments = nullptr;
std::uint32_t g_segment_count = 0;
HTAB* g_users = nullptr;
shmem_request_hook_type g_prev_request = nullptr;
shmem_startup_hook_type g_prev_startup = nullptr;

Size users_size() { return hash_estimate_size(kUsers, sizeof(UserEntry)); }

// One segment per PGPROC (regular backends, workers, auxiliary and prepared-xact slots).
std::uint32_t segment_count() {
    return static_cast<std::uint32_t>(MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts);
}
Size segments_size() { return mul_size(segment_count(), sizeof(Segment)); }

Segment* my_segment() {
    if (!g_segments || !MyProc || MyProc->pgprocno < 0 ||
        static_cast<std::uint32_t>(MyProc->pgprocno) >= g_segment_count)
        return nullptr;
    return &g_segments[MyProc->pgprocno];
}

// Under ring_lock EXCLUSIVE: appends to the ring; what does not fit is lost (rescan).
void ring_append(const RingItem* items, std::size_t count) {
    const std::size_t room = kRingSize - g_header->ring_count;
    const std::size_t n = std::min(room, count);
    std::memcpy(&g_header->ring[g_header->ring_count], items, n * sizeof(RingItem));
    g_header->ring_count += static_cast<std::uint32_t>(n);
    if (n < count) {
        g_header->ring_dropped += count - n;
        pg_atomic_fetch_add_u64(&g_header->loss_generation, 1);
    }
}

// Under ring_lock EXCLUSIVE: removes the segments' items for which take(item) is true and
// hands each to sink(item) after the segment's spinlock is released (nothing that can
// allocate or throw runs under a spinlock).
template <typename Take, typename Sink>
void drain_segments(Take take, Sink sink) {
    RingItem taken[kSegmentItems];
    for (std::uint32_t i = 0; i < g_segment_count; ++i) {
        Segment& seg = g_segments[i];
        std::uint32_t n = 0;
        SpinLockAcquire(&seg.lock);
        std::uint32_t kept = 0;
        for (std::uint32_t j = 0; j < seg.count; ++j) {
            if (take(seg.items[j])) taken[n++] = seg.items[j];
            else seg.items[kept++] = seg.items[j];
        }
        seg.count = kept;
        SpinLockRelease(&seg.lock);
        for (std::uint32_t j = 0; j < n; ++j) sink(taken[j]);
    }
}

std::uint32_t hash_user(const void* key, Size) {
    const auto* k = static_cast<const UserKey*>(key);
    std::uint32_t h = 2166136261u ^ k->database;
    for (int i = 0; i < 16; ++i) h = (h ^ k->user[i]) * 16777619u;
    return h;
}

UserKey key_of(const Uuid& user) {
    UserKey k;
    std::memset(&k, 0, sizeof k);  // padding too: the key is hashed and compared as bytes
    k.database = MyDatabaseId;
    k.user = user;
    return k;
}

// This database's bookkeeping slot, found once per backend (a full table recycles
// slot 0: its database then simply rescans).
DbState* g_db = nullptr;
DbState& db_state() {
    if (g_db && g_db->database == MyDatabaseId) return *g_db;
    LWLockAcquire(g_header->ring_lock, LW_EXCLUSIVE);
    DbState* free_slot = nullptr;
    DbState* mine = nullptr;
    for (DbState& d : g_header->dbs) {
        if (d.database == MyDatabaseId) mine = &d;
        if (d.database == InvalidOid && !free_slot) free_slot = &d;
    }
    if (!mine) {
        mine = free_slot ? free_slot : &g_header->dbs[0];
        mine->database = MyDatabaseId;
        pg_atomic_write_u64(&mine->rescanned, 0);
        mine->rescan_xid = InvalidTransactionId;
        pg_atomic_write_u64(&mine->max_sealed_id, 0);
    }
    LWLockRelease(g_header->ring_lock);
    g_db = mine;
    return *mine;
}

void on_request() {
    if (g_prev_request) g_prev_request();
    RequestAddinShmemSpace(add_size(add_size(sizeof(Header), segments_size()), users_size()));
    RequestNamedLWLockTranche(kTranche, 1 + kPartitions);
}

void on_startup() {
    if (g_prev_startup) g_prev_startup();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    g_header = static_cast<Header*>(ShmemInitStruct("vitaluxe_security phi", sizeof(Header), &found));
    if (!found) {
        LWLockPadded* locks = GetNamedLWLockTranche(kTranche);
        g_header->ring_lock = &locks[0].lock;
        for (int i = 0; i < kPartitions; ++i) g_header->partitions[i] = &locks[1 + i].lock;
        // A new segment (server start, or the reset after a backend crash): whatever the
        // ring held is gone, so the sealer looks for unchained rows in the table first.
        pg_atomic_init_u64(&g_header->loss_generation, 1);
        for (DbState& d : g_header->dbs) {
            d.database = InvalidOid;
            pg_atomic_init_u64(&d.rescanned, 0);
            d.rescan_xid = InvalidTransactionId;
            pg_atomic_init_u64(&d.max_sealed_id, 0);
        }
        g_header->users_refused = 0;
        g_header->ring_dropped = 0;
        g_header->ring_count = 0;
    }
    g_segment_count = segment_count();
    bool segments_found = false;
    g_segments = static_cast<Segment*>(ShmemInitStruct("vitaluxe_security phi segments", segments_size(), &segments_found));
    if (!segments_found)
        for (std::uint32_t i = 0; i < g_segment_count; ++i) {
            SpinLockInit(&g_segments[i].lock);
            g_segments[i].count = 0;
        }
    HASHCTL info;
    std::memset(&info, 0, sizeof info);
    info.keysize = sizeof(UserKey);
    info.entrysize = sizeof(UserEntry);
    info.hash = hash_user;
    info.num_partitions = kPartitions;
    g_users = ShmemInitHash("vitaluxe_security phi users", kUsers, kUsers, &info,
                            HASH_ELEM | HASH_FUNCTION | HASH_PARTITION | HASH_FIXED_SIZE);
    LWLockRelease(AddinShmemInitLock);
}

// The last user's hash is kept: a statement asks for the partition lock and then looks the
// same user up under it (the key's database part never changes in a backend).
std::uint32_t user_hash(const Uuid& user) {
    static Uuid last_user{};
    static std::uint32_t last_hash = 0;
    static bool known = false;
    if (known && user == last_user) return last_hash;
    const UserKey k = key_of(user);
    last_hash = get_hash_value(g_users, &k);
    last_user = user;
    known = true;
    return last_hash;
}

}  // namespace

bool available() { return g_header != nullptr && g_users != nullptr; }

void install_hooks() {
    g_prev_request = shmem_request_hook;
    shmem_request_hook = on_request;
    g_prev_startup = shmem_startup_hook;
    shmem_startup_hook = on_startup;
}

LWLock* partition_lock(const Uuid& user) {
    return g_header->partitions[user_hash(user) % kPartitions];
}

LWLock* partition_lock_at(int partition) { return g_header->partitions[partition]; }

HTAB* users_table() { return g_users; }

UserEntry* find(const Uuid& user, Oid relid) {
    const UserKey k = key_of(user);
    auto* e = static_cast<UserEntry*>(hash_search_with_hash_value(g_users, &k, user_hash(user), HASH_FIND, nullptr));
    return (e && e->relid == relid) ? e : nullptr;
}

UserEntry* insert(const Uuid& user) {
    bool found = false;
    const UserKey k = key_of(user);
    // HASH_ENTER_NULL: NULL instead of an ERROR when the fixed-size table is full.
    auto* e = static_cast<UserEntry*>(hash_search_with_hash_value(g_users, &k, user_hash(user), HASH_ENTER_NULL, &found));
    if (!e) {
        LWLockAcquire(g_header->ring_lock, LW_EXCLUSIVE);
        ++g_header->users_refused;
        LWLockRelease(g_header->ring_lock);
        return nullptr;
    }
    {
        std::memset(reinterpret_cast<char*>(e) + sizeof(UserKey), 0, sizeof(UserEntry) - sizeof(UserKey));
        e->buckets[0].reset(0);
        e->buckets[1].reset(-1);
        e->today.clear();
    }
    return e;
}

std::size_t evict_stale(Oid relid) {
    // 1. the databases the entries and ring items belong to (under shared locks)
    std::vector<Oid> databases;
    for (int i = 0; i < kPartitions; ++i) LWLockAcquire(g_header->partitions[i], LW_SHARED);
    {
        HASH_SEQ_STATUS status;
        hash_seq_init(&status, g_users);
        while (auto* e = static_cast<UserEntry*>(hash_seq_search(&status)))
            if (std::find(databases.begin(), databases.end(), e->key.database) == databases.end())
                databases.push_back(e->key.database);
    }
    for (int i = kPartitions - 1; i >= 0; --i) LWLockRelease(g_header->partitions[i]);
    // 2. which of them are gone (a catalog lookup, with no lock of ours held)
    std::vector<Oid> dead;
    for (Oid db : databases)
        if (db != MyDatabaseId && !SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(db))) dead.push_back(db);
    auto stale = [&](Oid db, Oid rel) {
        return (db == MyDatabaseId && rel != relid) || std::find(dead.begin(), dead.end(), db) != dead.end();
    };
    // 3. remove them
    std::size_t freed = 0;
    for (int i = 0; i < kPartitions; ++i) LWLockAcquire(g_header->partitions[i], LW_EXCLUSIVE);
    {
        HASH_SEQ_STATUS status;
        hash_seq_init(&status, g_users);
        while (auto* e = static_cast<UserEntry*>(hash_seq_search(&status))) {
            if (!stale(e->key.database, e->relid)) continue;
            const UserKey k = e->key;
            hash_search(g_users, &k, HASH_REMOVE, nullptr);
            ++freed;
        }
    }
    for (int i = kPartitions - 1; i >= 0; --i) LWLockRelease(g_header->partitions[i]);
    LWLockAcquire(g_header->ring_lock, LW_EXCLUSIVE);
    std::uint32_t kept = 0;
    for (std::uint32_t i = 0; i < g_header->ring_count; ++i) {
        const RingItem& it = g_header->ring[i];
        if (!stale(it.database, it.relid)) g_header->ring[kept++] = it;
    }
    g_header->ring_count = kept;
    drain_segments([&](const RingItem& it) { return stale(it.database, it.relid); }, [](const RingItem&) {});
    LWLockRelease(g_header->ring_lock);
    return freed;
}

std::size_t users_in_use() { return static_cast<std::size_t>(hash_get_num_entries(g_users)); }

std::size_t users_refused() { return g_header->users_refused; }

bool slot_alive(OpenSlot& slot) {
    if (!slot.used) return false;
    if (!TransactionIdIsValid(slot.xid)) return true;
    if (TransactionIdIsCurrentTransactionId(slot.xid)) return true;
    if (TransactionIdIsInProgress(slot.xid)) return true;
    if (TransactionIdDidCommit(slot.xid)) {
        slot.xid = InvalidTransactionId;
        return true;
    }
    slot.used = false;
    return false;
}

void forget_event(const Uuid& user, std::int64_t event_id) {
    if (!available()) return;
    LWLock* lock = partition_lock(user);
    LWLockAcquire(lock, LW_EXCLUSIVE);
    const UserKey k = key_of(user);
    if (auto* e = static_cast<UserEntry*>(hash_search_with_hash_value(g_users, &k, user_hash(user), HASH_FIND, nullptr)))
        for (OpenSlot& s : e->open)
            if (s.used && s.event_id == event_id) s.used = false;
    LWLockRelease(lock);
}

void push(const RingItem* items, std::size_t count) {
    if (count == 0) return;
    Segment* seg = my_segment();
    if (seg && count <= kSegmentItems) {
        SpinLockAcquire(&seg->lock);
        const bool fits = seg->count + count <= kSegmentItems;
        if (fits) {
            std::memcpy(&seg->items[seg->count], items, count * sizeof(RingItem));
            seg->count += static_cast<std::uint32_t>(count);
        }
        SpinLockRelease(&seg->lock);
        if (fits) return;
    }
    LWLockAcquire(g_header->ring_lock, LW_EXCLUSIVE);
    if (seg) {  // the full segment first, in its order, then the new items
        SpinLockAcquire(&seg->lock);
        RingItem moved[kSegmentItems];
        const std::uint32_t n = seg->count;
        std::memcpy(moved, seg->items, n * sizeof(RingItem));
        seg->count = 0;
        SpinLockRelease(&seg->lock);
        ring_append(moved, n);
    }
    ring_append(items, count);
    LWLockRelease(g_header->ring_lock);
}

std::vector<RingItem> take_mine() {
    std::vector<RingItem> mine;
    LWLockAcquire(g_header->ring_lock, LW_EXCLUSIVE);
    std::uint32_t kept = 0;
    for (std::uint32_t i = 0; i < g_header->ring_count; ++i) {
        const RingItem& it = g_header->ring[i];
        if (it.database == MyDatabaseId) mine.push_back(it);
        else g_header->ring[kept++] = it;
    }
    g_header->ring_count = kept;
    drain_segments([](const RingItem& it) { return it.database == MyDatabaseId; },
                   [&](const RingItem& it) { mine.push_back(it); });
    LWLockRelease(g_header->ring_lock);
    return mine;
}

void put_back(const std::vector<RingItem>& items) {
    if (items.empty()) return;
    LWLockAcquire(g_header->ring_lock, LW_EXCLUSIVE);
    ring_append(items.data(), items.size());
    LWLockRelease(g_header->ring_lock);
}

// The ring's items plus this backend's segment (the others' segments hold at most
// kSegmentItems each; the sealer drains them all).
std::size_t ring_count() {
    const Segment* seg = my_segment();
    return g_header->ring_count + (seg ? seg->count : 0);
}

bool needs_rescan() {
    return pg_atomic_read_u64(&db_state().rescanned) < pg_atomic_read_u64(&g_header->loss_generation);
}

std::uint64_t begin_rescan() { return pg_atomic_read_u64(&g_header->loss_generation); }

void end_rescan(std::uint64_t generation, TransactionId next_xid) {
    DbState& d = db_state();
    LWLockAcquire(g_header->ring_lock, LW_EXCLUSIVE);
    if (pg_atomic_read_u64(&d.rescanned) < generation) pg_atomic_write_u64(&d.rescanned, generation);
    d.rescan_xid = next_xid;
    LWLockRelease(g_header->ring_lock);
}

void lose_items() { pg_atomic_fetch_add_u64(&g_header->loss_generation, 1); }

TransactionId rescan_xid() {
    DbState& d = db_state();
    LWLockAcquire(g_header->ring_lock, LW_SHARED);
    const TransactionId x = d.rescan_xid;
    LWLockRelease(g_header->ring_lock);
    return x;
}

void clear_rescan_xid() {
    DbState& d = db_state();
    LWLockAcquire(g_header->ring_lock, LW_EXCLUSIVE);
    d.rescan_xid = InvalidTransactionId;
    LWLockRelease(g_header->ring_lock);
}

std::int64_t max_sealed_id() { return static_cast<std::int64_t>(pg_atomic_read_u64(&db_state().max_sealed_id)) - 1; }

void note_sealed_id(std::int64_t id) {
    DbState& d = db_state();
    std::uint64_t current = pg_atomic_read_u64(&d.max_sealed_id);
    const auto wanted = static_cast<std::uint64_t>(id + 1);
    while (current < wanted && !pg_atomic_compare_exchange_u64(&d.max_sealed_id, &current, wanted)) {
    }
}

Usage usage() {
    Usage u{};
    if (!available()) return u;
    u.users = users_in_use();
    u.users_capacity = kUsers;
    u.users_refused = g_header->users_refused;
    u.ring = g_header->ring_count;
    for (std::uint32_t i = 0; i < g_segment_count; ++i) u.ring += g_segments[i].count;  // unlocked: a reading
    u.ring_capacity = kRingSize;
    u.ring_dropped = g_header->ring_dropped;
    u.bytes = sizeof(Header) + segments_size() + users_size();
    return u;
}

}  // namespace vlx::pg::phi::shared
