// Data keys at rest: each 256-bit data key is stored only wrapped (AES-256-GCM) by the
// 256-bit master key, bound to its purpose and key id so a wrapped key cannot be moved to
// another row of security.encryption_keys or reused for another purpose.
//
// Wrapped layout (61 bytes):
//   offset  size  field
//   0       1     version, 0x01
//   1       12    nonce, random
//   13      32    encrypted data key
//   45      16    GCM tag
// Associated data: for each of "vitaluxe_security/data-key/v1", the version byte,
// purpose, key_id (uint32 big-endian) — a uint32 big-endian length, then the bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/crypto/byte_view.hpp"
#include "core/secret_bytes.hpp"

namespace vlx::core {

constexpr std::size_t kMasterKeySize = 32;
constexpr std::size_t kDataKeySize = 32;
constexpr std::uint8_t kWrappedKeyVersion = 0x01;
constexpr std::size_t kWrappedKeySize = 1 + 12 + kDataKeySize + 16;

// A fresh random data key.
SecretBytes generate_data_key();

// InvalidParameter if master or data_key is not 32 bytes.
std::vector<std::uint8_t> wrap_data_key(ByteView master, ByteView data_key, std::string_view purpose,
                                        std::uint32_t key_id);

// The data key, or DataCorrupted when the wrapped bytes were altered or belong to another
// master key, purpose or key id. InvalidParameter if master is not 32 bytes.
SecretBytes unwrap_data_key(ByteView master, ByteView wrapped, std::string_view purpose, std::uint32_t key_id);

// HMAC-SHA256(master, "vitaluxe_security fingerprint v1"): identifies which master key
// wrapped the data keys (to detect a changed master key) without revealing it.
std::array<std::uint8_t, 32> master_key_fingerprint(ByteView master);

// Exactly 64 hexadecimal digits (either case), optionally surrounded by whitespace such as
// the newline a key file ends with. InvalidParameter otherwise; the message never
// repeats the input, which may be a mistyped key.
SecretBytes parse_master_key_hex(std::string_view text);

}  // namespace vlx::core
