#include "core/crypto/aes_gcm.hpp"

#include <algorithm>
#include <climits>
#include <memory>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/error.hpp"

namespace vlx::core {
namespace {

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// EVP takes int lengths; PostgreSQL values stay below 1 GiB, but we never truncate.
constexpr std::size_t kMaxChunk = 1u << 30;

// Leaves OpenSSL's error queue empty, so a failure here is not reported again later by
// whoever next looks at the queue (libpq, pgcrypto, the server's SSL code).
[[noreturn]] void fail(ErrorKind kind, const char* message) {
    ERR_clear_error();
    throw Error(kind, message);
}

// Fetched once per process: the implicit fetch behind EVP_aes_256_gcm() on every call
// costs more than encrypting a short value.
const EVP_CIPHER* aes_256_gcm() {
    static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    if (cipher == nullptr) fail(ErrorKind::Internal, "AES-256-GCM is not available from OpenSSL");
    return cipher;
}

void check_sizes(ByteView key, ByteView nonce) {
    if (key.size() != aes_gcm::kKeySize) invalid_parameter("AES-256-GCM key must be 32 bytes");
    if (nonce.size() != aes_gcm::kNonceSize) invalid_parameter("AES-256-GCM nonce must be 12 bytes (96 bits)");
}

CipherCtx new_context() {
    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    if (!ctx) fail(ErrorKind::Internal, "cannot allocate an OpenSSL cipher context");
    return ctx;
}

// Feeds the associated data (out = nullptr tells EVP it is AAD).
bool add_aad(EVP_CIPHER_CTX* ctx, ByteView aad, bool encrypting) {
    for (std::size_t done = 0; done < aad.size();) {
        const int chunk = static_cast<int>(std::min(kMaxChunk, aad.size() - done));
        int written = 0;
        const int ok = encrypting ? EVP_EncryptUpdate(ctx, nullptr, &written, aad.data() + done, chunk)
                                  : EVP_DecryptUpdate(ctx, nullptr, &written, aad.data() + done, chunk);
        if (ok != 1) return false;
        done += static_cast<std::size_t>(chunk);
    }
    return true;
}

// GCM is a stream mode: each update writes exactly as many bytes as it reads.
bool transform(EVP_CIPHER_CTX* ctx, ByteView in, std::uint8_t* out, bool encrypting) {
    for (std::size_t done = 0; done < in.size();) {
        const int chunk = static_cast<int>(std::min(kMaxChunk, in.size() - done));
        int written = 0;
        const int ok = encrypting ? EVP_EncryptUpdate(ctx, out + done, &written, in.data() + done, chunk)
                                  : EVP_DecryptUpdate(ctx, out + done, &written, in.data() + done, chunk);
        if (ok != 1 || written != chunk) return false;
        done += static_cast<std::size_t>(chunk);
    }
    return true;
}

}  // namespace

void fill_random(std::uint8_t* out, std::size_t count) {
    for (std::size_t done = 0; done < count;) {
        const int chunk = static_cast<int>(std::min(kMaxChunk, count - done));
        if (RAND_bytes(out + done, chunk) != 1) fail(ErrorKind::Internal, "the OpenSSL random generator failed");
        done += static_cast<std::size_t>(chunk);
    }
}

std::vector<std::uint8_t> random_bytes(std::size_t count) {
    std::vector<std::uint8_t> bytes(count);
    fill_random(bytes.data(), count);
    return bytes;
}

namespace aes_gcm {

void seal_into(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext, std::uint8_t* out) {
    check_sizes(key, nonce);
    CipherCtx ctx = new_context();
    // 12 bytes is GCM's default IV length in OpenSSL, so no EVP_CTRL_GCM_SET_IVLEN.
    if (EVP_EncryptInit_ex2(ctx.get(), aes_256_gcm(), key.data(), nonce.data(), nullptr) != 1 ||
        !add_aad(ctx.get(), aad, true) || !transform(ctx.get(), plaintext, out, true)) {
        fail(ErrorKind::Internal, "AES-256-GCM encryption failed");
    }
    int final_len = 0;
    if (EVP_EncryptFinal_ex(ctx.get(), out + plaintext.size(), &final_len) != 1 || final_len != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                            out + plaintext.size()) != 1) {
        fail(ErrorKind::Internal, "AES-256-GCM encryption failed");
    }
}

std::vector<std::uint8_t> seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext) {
    std::vector<std::uint8_t> sealed(plaintext.size() + kTagSize);
    seal_into(key, nonce, aad, plaintext, sealed.data());
    return sealed;
}

SecretBytes open(ByteView key, ByteView nonce, ByteView aad, ByteView ciphertext_and_tag) {
    check_sizes(key, nonce);
    if (ciphertext_and_tag.size() < kTagSize) {
        fail(ErrorKind::DataCorrupted, "AES-256-GCM ciphertext is too short to hold its tag");
    }
    const std::size_t text_size = ciphertext_and_tag.size() - kTagSize;
    const ByteView ciphertext = ciphertext_and_tag.slice(0, text_size);
    // EVP_CTRL_GCM_SET_TAG wants a writable pointer though it only reads: copy the tag.
    std::uint8_t tag[kTagSize];
    std::copy_n(ciphertext_and_tag.data() + text_size, kTagSize, tag);

    CipherCtx ctx = new_context();
    SecretBytes plaintext(text_size);
    if (EVP_DecryptInit_ex2(ctx.get(), aes_256_gcm(), key.data(), nonce.data(), nullptr) != 1 ||
        !add_aad(ctx.get(), aad, false) || !transform(ctx.get(), ciphertext, plaintext.data(), false) ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag) != 1) {
        fail(ErrorKind::Internal, "AES-256-GCM decryption failed");
    }
    // Final compares the tag (in constant time); until it succeeds the plaintext is unverified.
    int final_len = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + text_size, &final_len) != 1) {
        fail(ErrorKind::DataCorrupted, "AES-256-GCM authentication failed: the value was altered, "
                                       "or the key or context does not match");
    }
    return plaintext;
}

}  // namespace aes_gcm
}  // namespace vlx::core
