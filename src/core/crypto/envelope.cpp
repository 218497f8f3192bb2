#include "core/crypto/envelope.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include "core/crypto/aes_gcm.hpp"
#include "core/crypto/base64.hpp"
#include "core/error.hpp"

namespace vlx::core {
namespace {

static_assert(kEnvelopeOverhead == kEnvelopeHeaderSize + aes_gcm::kNonceSize + aes_gcm::kTagSize);

constexpr std::size_t kNonceOffset = kEnvelopeHeaderSize;
constexpr std::size_t kCiphertextOffset = kNonceOffset + aes_gcm::kNonceSize;

void put_u32be(std::uint8_t* out, std::uint32_t value) {
    out[0] = static_cast<std::uint8_t>(value >> 24);
    out[1] = static_cast<std::uint8_t>(value >> 16);
    out[2] = static_cast<std::uint8_t>(value >> 8);
    out[3] = static_cast<std::uint8_t>(value);
}

std::uint32_t get_u32be(const std::uint8_t* in) {
    return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) | in[3];
}

// header ‖ u32be(len(context)) ‖ context: the length prefix keeps the boundary between
// fields unambiguous should a later version add fields after the context.
std::vector<std::uint8_t> associated_data(ByteView header, std::string_view context) {
    if (context.size() > std::numeric_limits<std::uint32_t>::max()) {
        invalid_parameter("encryption context is too long");
    }
    std::vector<std::uint8_t> aad(header.size() + 4 + context.size());
    std::copy(header.begin(), header.end(), aad.begin());
    put_u32be(aad.data() + header.size(), static_cast<std::uint32_t>(context.size()));
    std::copy(context.begin(), context.end(), aad.begin() + static_cast<std::ptrdiff_t>(header.size() + 4));
    return aad;
}

// nullopt when the bytes cannot be an envelope of this version.
std::optional<std::uint32_t> key_id_if_well_formed(ByteView envelope) {
    if (envelope.size() < kEnvelopeOverhead || envelope[0] != kEnvelopeVersion) return std::nullopt;
    return get_u32be(envelope.data() + 1);
}

}  // namespace

std::vector<std::uint8_t> encrypt_envelope(ByteView key, std::uint32_t key_id, std::string_view context,
                                           ByteView plaintext) {
    std::vector<std::uint8_t> envelope(kEnvelopeOverhead + plaintext.size());
    envelope[0] = kEnvelopeVersion;
    put_u32be(envelope.data() + 1, key_id);
    fill_random(envelope.data() + kNonceOffset, aes_gcm::kNonceSize);
    const ByteView whole(envelope.data(), envelope.size());
    aes_gcm::seal_into(key, whole.slice(kNonceOffset, aes_gcm::kNonceSize),
                       associated_data(whole.slice(0, kEnvelopeHeaderSize), context), plaintext,
                       envelope.data() + kCiphertextOffset);
    return envelope;
}

std::uint32_t peek_key_id(ByteView envelope) {
    if (envelope.size() < kEnvelopeOverhead) {
        throw Error(ErrorKind::DataCorrupted, "encrypted value is truncated or not an envelope");
    }
    if (envelope[0] != kEnvelopeVersion) {
        throw Error(ErrorKind::DataCorrupted, "encrypted value has an unknown envelope version");
    }
    return *key_id_if_well_formed(envelope);
}

SecretBytes decrypt_envelope(ByteView key, ByteView envelope, std::string_view context) {
    peek_key_id(envelope);  // shape and version first, so a short value is never sliced
    return aes_gcm::open(key, envelope.slice(kNonceOffset, aes_gcm::kNonceSize),
                         associated_data(envelope.slice(0, kEnvelopeHeaderSize), context),
                         envelope.slice(kCiphertextOffset, envelope.size() - kCiphertextOffset));
}

std::string armor(ByteView envelope) { return std::string(kArmorPrefix) + base64_encode(envelope); }

namespace {
std::optional<std::vector<std::uint8_t>> unarmor_if_well_formed(std::string_view text) {
    if (text.substr(0, kArmorPrefix.size()) != kArmorPrefix) return std::nullopt;
    auto envelope = base64_decode(text.substr(kArmorPrefix.size()));
    if (!envelope || !key_id_if_well_formed(*envelope)) return std::nullopt;
    return envelope;
}
}  // namespace

bool is_armored(std::string_view text) { return unarmor_if_well_formed(text).has_value(); }

std::vector<std::uint8_t> unarmor(std::string_view text) {
    auto envelope = unarmor_if_well_formed(text);
    if (!envelope) throw Error(ErrorKind::DataCorrupted, "encrypted text is not a well-formed vlx1 armored value");
    return std::move(*envelope);
}

}  // namespace vlx::core
