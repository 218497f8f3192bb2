#include "core/crypto/key_wrap.hpp"

#include <limits>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/crypto/aes_gcm.hpp"
#include "core/error.hpp"

namespace vlx::core {
namespace {

constexpr std::string_view kWrapLabel = "vitaluxe_security/data-key/v1";
constexpr std::string_view kFingerprintLabel = "vitaluxe_security fingerprint v1";
constexpr std::size_t kNonceOffset = 1;
constexpr std::size_t kSealedOffset = kNonceOffset + aes_gcm::kNonceSize;
static_assert(kWrappedKeySize == kSealedOffset + kDataKeySize + aes_gcm::kTagSize);

void append_field(std::vector<std::uint8_t>& out, ByteView field) {
    if (field.size() > std::numeric_limits<std::uint32_t>::max()) invalid_parameter("key purpose is too long");
    const auto size = static_cast<std::uint32_t>(field.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(size >> shift));
    out.insert(out.end(), field.begin(), field.end());
}

std::vector<std::uint8_t> associated_data(std::string_view purpose, std::uint32_t key_id) {
    const std::uint8_t version[] = {kWrappedKeyVersion};
    const std::uint8_t id[] = {static_cast<std::uint8_t>(key_id >> 24), static_cast<std::uint8_t>(key_id >> 16),
                               static_cast<std::uint8_t>(key_id >> 8), static_cast<std::uint8_t>(key_id)};
    std::vector<std::uint8_t> aad;
    append_field(aad, kWrapLabel);
    append_field(aad, ByteView(version, sizeof version));
    append_field(aad, purpose);
    append_field(aad, ByteView(id, sizeof id));
    return aad;
}

void check_master(ByteView master) {
    if (master.size() != kMasterKeySize) invalid_parameter("master key must be 32 bytes (256 bits)");
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

SecretBytes generate_data_key() {
    SecretBytes key(kDataKeySize);
    fill_random(key.data(), key.size());
    return key;
}

std::vector<std::uint8_t> wrap_data_key(ByteView master, ByteView data_key, std::string_view purpose,
                                        std::uint32_t key_id) {
    check_master(master);
    if (data_key.size() != kDataKeySize) invalid_parameter("data key must be 32 bytes (256 bits)");
    std::vector<std::uint8_t> wrapped(kWrappedKeySize);
    wrapped[0] = kWrappedKeyVersion;
    fill_random(wrapped.data() + kNonceOffset, aes_gcm::kNonceSize);
    aes_gcm::seal_into(master, ByteView(wrapped.data() + kNonceOffset, aes_gcm::kNonceSize),
                       associated_data(purpose, key_id), data_key, wrapped.data() + kSealedOffset);
    return wrapped;
}

SecretBytes unwrap_data_key(ByteView master, ByteView wrapped, std::string_view purpose, std::uint32_t key_id) {
    check_master(master);
    if (wrapped.size() != kWrappedKeySize || wrapped[0] != kWrappedKeyVersion) {
        throw Error(ErrorKind::DataCorrupted, "wrapped data key is malformed or of an unknown version");
    }
    try {
        return aes_gcm::open(master, wrapped.slice(kNonceOffset, aes_gcm::kNonceSize),
                             associated_data(purpose, key_id),
                             wrapped.slice(kSealedOffset, wrapped.size() - kSealedOffset));
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::DataCorrupted) throw;
        throw Error(ErrorKind::DataCorrupted, "wrapped data key does not unwrap",
                    "It was altered, or wrapped by another master key, purpose or key id.");
    }
}

std::array<std::uint8_t, 32> master_key_fingerprint(ByteView master) {
    check_master(master);
    std::array<std::uint8_t, 32> fingerprint{};
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), master.data(), static_cast<int>(master.size()),
             reinterpret_cast<const unsigned char*>(kFingerprintLabel.data()), kFingerprintLabel.size(),
             fingerprint.data(), &size) == nullptr ||
        size != fingerprint.size()) {
        ERR_clear_error();
        throw Error(ErrorKind::Internal, "HMAC-SHA256 failed");
    }
    return fingerprint;
}

SecretBytes parse_master_key_hex(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    constexpr const char* kMessage = "master key must be exactly 64 hexadecimal digits (256 bits)";
    if (text.size() != 2 * kMasterKeySize) invalid_parameter(kMessage, "Generate one with: openssl rand -hex 32");
    SecretBytes key(kMasterKeySize);
    for (std::size_t i = 0; i < kMasterKeySize; ++i) {
        const int high = hex_value(text[2 * i]);
        const int low = hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0) invalid_parameter(kMessage, "Generate one with: openssl rand -hex 32");
        key.data()[i] = static_cast<std::uint8_t>((high << 4) | low);
    }
    return key;
}

}  // namespace vlx::core
