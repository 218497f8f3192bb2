// AES-256-GCM through OpenSSL EVP, restricted on purpose to 96-bit nonces and 128-bit
// tags: other nonce sizes go through GHASH (and have had real-world bugs), shorter tags
// weaken forgery resistance, so neither is reachable through this API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/crypto/byte_view.hpp"
#include "core/secret_bytes.hpp"

namespace vlx::core {

// Random bytes from OpenSSL's CSPRNG (RAND_bytes); throws Internal if it cannot deliver.
std::vector<std::uint8_t> random_bytes(std::size_t count);
void fill_random(std::uint8_t* out, std::size_t count);

namespace aes_gcm {

constexpr std::size_t kKeySize = 32;    // AES-256
constexpr std::size_t kNonceSize = 12;  // 96 bits: the only size accepted
constexpr std::size_t kTagSize = 16;    // 128 bits: the only size produced or accepted

// Encrypts and returns ciphertext ‖ tag (plaintext.size() + kTagSize bytes).
// InvalidParameter when the key is not 32 bytes or the nonce not 12 bytes.
std::vector<std::uint8_t> seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext);

// As seal, writing plaintext.size() + kTagSize bytes at out (for callers that frame
// the ciphertext inside a larger buffer without a copy).
void seal_into(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext, std::uint8_t* out);

// Verifies and decrypts ciphertext ‖ tag. Any mismatch (tampering, wrong key, nonce or
// aad, too short to hold a tag) is DataCorrupted, and no byte of unverified plaintext
// escapes: the buffer is SecretBytes and is wiped when the error unwinds.
// InvalidParameter for a key or nonce of the wrong size.
SecretBytes open(ByteView key, ByteView nonce, ByteView aad, ByteView ciphertext_and_tag);

}  // namespace aes_gcm
}  // namespace vlx::core
