// The stored form of one encrypted value: a versioned, self-describing envelope that
// names the data key it was sealed with, so decryption and rotation need no side table.
//
//   offset  size  field
//   0       1     version, 0x01
//   1       4     key_id, uint32 big-endian (security.encryption_keys.key_id)
//   5       12    nonce, random per value
//   17      n     AES-256-GCM ciphertext (n = plaintext length)
//   17+n    16    GCM tag
//
// Associated data bound by GCM (never stored): the 5 header bytes, then the caller's
// context as uint32 big-endian length + bytes. A changed version or key id, or a value
// moved to another context (row, column, table), fails authentication.
//
// Text columns hold the envelope armored: "vlx1:" + padded base64 of the bytes above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/byte_view.hpp"
#include "core/secret_bytes.hpp"

namespace vlx::core {

constexpr std::uint8_t kEnvelopeVersion = 0x01;
constexpr std::size_t kEnvelopeHeaderSize = 5;                       // version + key_id
constexpr std::size_t kEnvelopeOverhead = kEnvelopeHeaderSize + 12 + 16;  // + nonce + tag
constexpr std::string_view kArmorPrefix = "vlx1:";

// Seals plaintext under key (32 bytes) with a fresh random nonce.
// InvalidParameter for a key of the wrong size.
std::vector<std::uint8_t> encrypt_envelope(ByteView key, std::uint32_t key_id, std::string_view context,
                                           ByteView plaintext);

// The key id an envelope names, after checking its version and minimum length
// (DataCorrupted if either is wrong). Says nothing about authenticity.
std::uint32_t peek_key_id(ByteView envelope);

// The plaintext, or DataCorrupted for anything tampered, truncated, foreign, sealed
// under another key or bound to another context.
SecretBytes decrypt_envelope(ByteView key, ByteView envelope, std::string_view context);

// Text armor for text columns.
std::string armor(ByteView envelope);
// True when text is well-formed armor (prefix, canonical base64, envelope shape);
// it does not authenticate.
bool is_armored(std::string_view text);
// The envelope inside armor; DataCorrupted for anything malformed.
std::vector<std::uint8_t> unarmor(std::string_view text);

}  // namespace vlx::core
