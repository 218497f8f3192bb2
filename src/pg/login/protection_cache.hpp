// What check_login must know besides the account itself: the active blocked networks and
// whether an emergency lockdown is on. Both change rarely and are read on every sign-in,
// so each backend keeps them in memory. A statement trigger on security.blocked_ips and
// security.system_state sends a relcache invalidation for the table, which every backend
// receives at its next transaction start (and the writer at its next command); the cache
// is then reloaded from the tables, which stay the only source of truth.
#pragma once

#include "pg/postgres.hpp"

namespace vlx::pg::login {

// Registers the invalidation callback; called once from _PG_init.
void register_protection_cache();

// Whether `ip` (an inet Datum) lies in a block active at `now`. After an invalidation the
// first call reloads the cache through SPI (its own connection, nested if need be).
bool ip_blocked(Datum ip, std::int64_t now);

// Whether an emergency lockdown is on.
bool app_offline();

}  // namespace vlx::pg::login
