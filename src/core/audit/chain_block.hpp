// The stored form of the hash chain: one block per seal. A block holds the entries one
// seal appended, in seal order, packed; the chain's links run through the entries of
// every block, link(n) = SHA-256(link(n-1) || row_hash(n)), and each block stores the link
// before its first entry and the link after its last. One row per seal instead of one
// per audit row keeps sealing off the insert path's cost (SPEC §10).
//
// Entry, 41 bytes: flags (1: bits 0-1 the source, 1 audit_logs or 2 security_events; bit 7
// the row was removed by the retention purge), row id (8, big-endian), row hash (32).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto/sha256.hpp"

namespace vlx::core::audit {

constexpr std::size_t kBlockEntrySize = 41;

struct BlockEntry {
    std::int16_t source = 1;
    std::int64_t row_id = 0;
    Sha256Digest row_hash{};
    bool purged = false;
};

std::string encode_block(const std::vector<BlockEntry>& entries);
// Throws Error(DataCorrupted) for a length that is not a whole number of entries or an
// unknown source.
std::vector<BlockEntry> decode_block(ByteView bytes);

// The link after `entries`, starting from `previous`.
Sha256Digest block_link(const Sha256Digest& previous, const std::vector<BlockEntry>& entries);

// What verification knows about one entry's row now.
struct RowCheck {
    bool present = true;      // false: the row is gone (deleted behind the triggers)
    Sha256Digest actual{};    // recomputed from the row as it is now (when present)
};

// A stored block as verification reads it.
struct StoredBlock {
    std::int64_t seq_first = 0;
    std::int64_t seq_last = 0;
    Sha256Digest prev_link{};
    Sha256Digest link{};
    std::vector<BlockEntry> entries;
};

// Walks the blocks in chain order from `start` (genesis or the purge anchor and its seq).
// A block breaks the chain where an entry's row is gone or changed (that entry), or where
// its numbering, its previous link or its end link disagree with the walk (its first
// entry: which entry inside was rewritten cannot be told from the links alone). After a
// break the walk continues from the stored values, so one break does not hide the next.
class BlockWalker {
public:
    BlockWalker(const Sha256Digest& start, std::int64_t start_seq) : link_(start), seq_(start_seq) {}
    // checks[i] belongs to block.entries[i] (purged entries: not looked at). Returns the
    // index of the first broken entry, or nullopt.
    std::optional<std::size_t> step(const StoredBlock& block, const std::vector<RowCheck>& checks);
    bool intact() const { return intact_; }
    std::int64_t entries_walked() const { return entries_; }

private:
    Sha256Digest link_;
    std::int64_t seq_;
    std::int64_t entries_ = 0;
    bool intact_ = true;
};

}  // namespace vlx::core::audit
