// The canonical encoding of an audit row and the hash chain over it (SPEC §3, tamper
// evidence). Pure C++: the PostgreSQL layer feeds column values in table order, the same
// way when a row is inserted and when it is verified, so the digests agree byte for byte.
//
// Encoding: "vlx-chain-v1\0" <table tag> "\0", then per column one of
//   0x00                      NULL
//   0x01 <8 bytes big-endian> an integer (bigint, timestamptz as microseconds)
//   0x02 <4 bytes big-endian length> <bytes>   text, uuid (16 raw bytes), inet/jsonb text
// The type byte and the length prefix make the encoding injective: no two different rows
// (or columns shifted between neighbours) encode alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/crypto/sha256.hpp"

namespace vlx::core::audit {

class CanonicalRow {
public:
    explicit CanonicalRow(std::string_view table_tag);
    // Starts a new row, keeping the buffer's capacity (one encoder reused per backend).
    void reset(std::string_view table_tag);
    CanonicalRow& null();
    CanonicalRow& integer(std::int64_t value);
    CanonicalRow& bytes(ByteView value);
    const std::string& encoding() const { return buf_; }
    Sha256Digest digest() const;

private:
    std::string buf_;
};

// The chain: link(n) = SHA-256(link(n-1) || row_hash(n)); link(0) = genesis() (32 zero
// bytes) or the anchor a retention purge left behind.
Sha256Digest genesis();
Sha256Digest chain_link(const Sha256Digest& previous, const Sha256Digest& row_hash);

// The stored form and its walk: core/audit/chain_block.hpp.

std::string to_hex(const Sha256Digest& digest);

}  // namespace vlx::core::audit
