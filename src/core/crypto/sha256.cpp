#include "core/crypto/sha256.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/error.hpp"

namespace vlx::core {
namespace {

[[noreturn]] void fail(const char* message) {
    ERR_clear_error();
    throw Error(ErrorKind::Internal, message);
}

// Fetched once: the implicit fetch behind EVP_sha256() costs more than hashing a row.
const EVP_MD* sha256_md() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (md == nullptr) fail("SHA-256 is not available from OpenSSL");
    return md;
}

}  // namespace

Sha256Digest sha256(ByteView bytes) {
    // One context, kept and re-initialised: EVP_Digest (and the one-shot SHA256(), which
    // fetches the algorithm each time in OpenSSL 3) cost several times the hash of an
    // audit row. A process-wide context: PostgreSQL backends are single-threaded, and so
    // are the callers of the core.
    static EVP_MD_CTX* const ctx = EVP_MD_CTX_new();
    if (!ctx) fail("cannot allocate an OpenSSL digest context");
    Sha256Digest digest{};
    unsigned int size = 0;
    if (EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1 || EVP_DigestUpdate(ctx, bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(ctx, digest.data(), &size) != 1 || size != digest.size()) {
        fail("SHA-256 failed");
    }
    return digest;
}

void Sha256Hasher::Free::operator()(evp_md_ctx_st* ctx) const noexcept { EVP_MD_CTX_free(ctx); }

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_) fail("cannot allocate an OpenSSL digest context");
    if (EVP_DigestInit_ex2(ctx_.get(), sha256_md(), nullptr) != 1) fail("SHA-256 failed");
}

Sha256Hasher::~Sha256Hasher() = default;
Sha256Hasher::Sha256Hasher(Sha256Hasher&&) noexcept = default;
Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&&) noexcept = default;

Sha256Hasher& Sha256Hasher::update(ByteView bytes) {
    if (finished_ || !ctx_) throw Error(ErrorKind::Internal, "SHA-256 hasher used after finish()");
    if (!bytes.empty() && EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) != 1) fail("SHA-256 failed");
    return *this;
}

Sha256Digest Sha256Hasher::finish() {
    if (finished_ || !ctx_) throw Error(ErrorKind::Internal, "SHA-256 hasher used after finish()");
    finished_ = true;
    Sha256Digest digest{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest.data(), &size) != 1 || size != digest.size()) fail("SHA-256 failed");
    return digest;
}

}  // namespace vlx::core
