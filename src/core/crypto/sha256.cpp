// OpenSSL's SHA-256 block functions directly, not EVP: an EVP digest allocates and frees
// a provider context on every (re)initialisation, which cost several times the hash of an
// audit row on the insert path. The block functions are deprecated in OpenSSL 3 but are
// its own implementation (SHA-NI / AVX2 where the CPU has them), checked by the NIST
// vectors in test/unit/sha256_test.cpp.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "core/crypto/sha256.hpp"

#include "core/error.hpp"

namespace vlx::core {
namespace {

[[noreturn]] void fail() { throw Error(ErrorKind::Internal, "SHA-256 failed"); }

}  // namespace

// (not the one-shot SHA256(): in OpenSSL 3 it goes through EVP_Q_digest, a fetch per call)
Sha256Digest sha256(ByteView bytes) {
    SHA256_CTX ctx;
    Sha256Digest digest{};
    if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, bytes.data(), bytes.size()) != 1 ||
        SHA256_Final(digest.data(), &ctx) != 1)
        fail();
    return digest;
}

Sha256Hasher::Sha256Hasher() {
    if (SHA256_Init(&ctx_) != 1) fail();
}

Sha256Hasher& Sha256Hasher::update(ByteView bytes) {
    if (finished_) throw Error(ErrorKind::Internal, "SHA-256 hasher used after finish()");
    if (!bytes.empty() && SHA256_Update(&ctx_, bytes.data(), bytes.size()) != 1) fail();
    return *this;
}

Sha256Digest Sha256Hasher::finish() {
    if (finished_) throw Error(ErrorKind::Internal, "SHA-256 hasher used after finish()");
    finished_ = true;
    Sha256Digest digest{};
    if (SHA256_Final(digest.data(), &ctx_) != 1) fail();
    return digest;
}

}  // namespace vlx::core
