#include <sys/socket.h>  // AF_INET, used by utils/inet.h

#include "pg/login/protection_cache.hpp"

#include "core/net/network.hpp"
#include "pg/datum.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "utils/inet.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::login {
namespace {

namespace net = core::net;

struct Block {
    net::Network network;
    std::optional<std::int64_t> until;
};

struct Cache {
    bool valid = false;
    std::uint64_t invalidations = 0;  // bumped by the callback, even while loading
    Oid blocked_ips_oid = InvalidOid;
    Oid system_state_oid = InvalidOid;
    std::vector<Block> blocks;
    bool app_offline = false;
};
Cache g_cache;

net::Address address_of(Datum value) {
    return call([&] {
        inet* ip = DatumGetInetPP(value);
        net::Address a;
        a.family = ip_family(ip) == PGSQL_AF_INET ? net::Family::V4 : net::Family::V6;
        std::memcpy(a.bytes.data(), ip_addr(ip), a.family == net::Family::V4 ? 4 : 16);
        return a;
    });
}

int prefix_of(Datum value) {
    return call([&] { return static_cast<int>(ip_bits(DatumGetInetPP(value))); });
}

void on_relcache_invalidation(Datum, Oid relid) {
    // Plain C callback: only flags, nothing that can fail.
    if (relid == InvalidOid || relid == g_cache.blocked_ips_oid || relid == g_cache.system_state_oid) {
        g_cache.valid = false;
        ++g_cache.invalidations;
    }
}

void load() {
    static spi::Statement blocks(
        // Every block not lifted, whatever its end: ip_blocked() judges the end at each call,
        // so a clock that moves (or a test's clock_offset) never drops a live block.
        "SELECT b.network, b.blocked_until FROM security.blocked_ips b WHERE b.unblocked_at IS NULL",
        {});
    static spi::Statement state("SELECT coalesce(bool_or(s.app_offline), false) FROM security.system_state s", {});

    spi::Connection connection;  // nested when the caller has one: SPI allows it
    // Invalid until fully loaded: an error half-way leaves it invalid, and an invalidation
    // that arrives while we read (lock acquisition processes them) makes us load again.
    g_cache.valid = false;
    call([&] {
        const Oid schema = get_namespace_oid("security", false);
        g_cache.blocked_ips_oid = get_relname_relid("blocked_ips", schema);
        g_cache.system_state_oid = get_relname_relid("system_state", schema);
    });
    const std::uint64_t seen = g_cache.invalidations;

    std::vector<Block> fresh;
    spi::Args args(0);
    spi::Rows rows = spi::execute(blocks, args, SPI_OK_SELECT);
    for (std::uint64_t i = 0; i < rows.size(); ++i) {
        const Datum network = *rows.get(i, 1);
        Block b{net::Network{address_of(network), prefix_of(network)}, std::nullopt};
        if (auto until = rows.get(i, 2)) b.until = DatumGetTimestampTz(*until);
        fresh.push_back(b);
    }
    spi::Args none(0);
    const bool offline = DatumGetBool(*spi::execute(state, none, SPI_OK_SELECT).get(0, 1));

    connection.finish();
    g_cache.blocks = std::move(fresh);
    g_cache.app_offline = offline;
    g_cache.valid = g_cache.invalidations == seen;
}

void ensure_loaded() {
    if (!g_cache.valid) load();
}

}  // namespace

void register_protection_cache() { CacheRegisterRelcacheCallback(on_relcache_invalidation, Datum(0)); }

bool ip_blocked(Datum ip, std::int64_t now) {
    ensure_loaded();
    const net::Address address = address_of(ip);
    for (const Block& b : g_cache.blocks)
        if ((!b.until || *b.until > now) && b.network.contains(address)) return true;
    return false;
}

bool app_offline() {
    ensure_loaded();
    return g_cache.app_offline;
}

}  // namespace vlx::pg::login

// Statement trigger on security.blocked_ips and security.system_state: tells every backend
// that its protection cache is stale (delivered at commit; nothing is sent on rollback).
VLX_FUNCTION(vlx_protection_changed) {
    vlx::pg::call([&] {
        if (!CALLED_AS_TRIGGER(fcinfo)) elog(ERROR, "vlx_protection_changed must be called as a trigger");
        CacheInvalidateRelcache(reinterpret_cast<TriggerData*>(fcinfo->context)->tg_relation);
    });
    return PointerGetDatum(nullptr);
}
