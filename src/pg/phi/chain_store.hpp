// The chain's table, security.audit_chain_block (one row per seal; the format is
// src/core/audit/chain_block.hpp): append, read in chain order, find a row's block.
// Everything here runs inside an open SPI connection.
#pragma once

#include <functional>
#include <optional>

#include "core/audit/chain_block.hpp"
#include "pg/phi/pgx.hpp"

namespace vlx::pg::phi::chain {

struct Block {
    core::audit::StoredBlock stored;
    TimestampTz sealed_at = 0;
};

// Appends one block at position seq_first (= head + 1) linked from prev_link; records the
// seal's horizon and highest audit id in audit_seal_state. Returns the new head link.
core::Sha256Digest append(std::int64_t seq_first, const core::Sha256Digest& prev_link,
                          const std::vector<core::audit::BlockEntry>& entries, Datum horizon);

// The blocks in chain order, all of them or those whose audit_logs ids meet [lo, hi],
// read a few at a time (a callback may run SPI statements of its own) until fn returns
// false.
void for_each_block(std::optional<std::pair<std::int64_t, std::int64_t>> audit_ids,
                    const std::function<bool(const Block&)>& fn);

// Retention: folds the purged prefix of the chain into audit_chain_anchor (whole blocks
// go, a block that starts with purged entries is cut after them) with `purged_before`.
void fold_purged_prefix(Datum purged_before);

// Where the walk starts: the purge anchor (its seq and link), else genesis at 0.
std::pair<std::int64_t, core::Sha256Digest> start();

}  // namespace vlx::pg::phi::chain
