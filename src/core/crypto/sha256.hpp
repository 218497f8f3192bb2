// SHA-256 (OpenSSL), for the audit log's hash chain and fingerprints.
#pragma once

#include <array>
#include <cstdint>

#include <openssl/sha.h>

#include "core/crypto/byte_view.hpp"

namespace vlx::core {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(ByteView bytes);

// Incremental hashing: update() any number of times, then finish() once.
// Using it after finish() is an Internal error (a bug in the caller).
class Sha256Hasher {
public:
    Sha256Hasher();
    Sha256Hasher& update(ByteView bytes);
    Sha256Digest finish();

private:
    SHA256_CTX ctx_;
    bool finished_ = false;
};

}  // namespace vlx::core
