// SHA-256 through OpenSSL EVP, for the audit log's hash chain and fingerprints.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "core/crypto/byte_view.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace vlx::core {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(ByteView bytes);

// Incremental hashing: update() any number of times, then finish() once.
// Using it after finish() is an Internal error (a bug in the caller).
class Sha256Hasher {
public:
    Sha256Hasher();
    ~Sha256Hasher();
    Sha256Hasher(Sha256Hasher&&) noexcept;
    Sha256Hasher& operator=(Sha256Hasher&&) noexcept;
    Sha256Hasher(const Sha256Hasher&) = delete;
    Sha256Hasher& operator=(const Sha256Hasher&) = delete;

    Sha256Hasher& update(ByteView bytes);
    Sha256Digest finish();

private:
    struct Free {
        void operator()(evp_md_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<evp_md_ctx_st, Free> ctx_;
    bool finished_ = false;
};

}  // namespace vlx::core
