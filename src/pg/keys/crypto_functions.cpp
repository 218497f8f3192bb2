// security.encrypt / decrypt / decrypt_bytea (SPEC §4), the envelope key id helpers and
// the key cache report.
#include "pg/boundary.hpp"

#include "core/crypto/base64.hpp"
#include "core/crypto/envelope.hpp"
#include "core/error.hpp"
#include "pg/datum.hpp"
#include "pg/keys/keyring.hpp"
#include "pg/keys/varlena.hpp"


namespace keys = vlx::pg::keys;
namespace datum = vlx::pg::datum;
using vlx::core::Error;
using vlx::core::ErrorKind;

namespace {

std::string context_arg(FunctionCallInfo fcinfo, int n) { return datum::require_text(fcinfo, n, "context"); }

Datum encrypt_body(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const std::string context = context_arg(fcinfo, 1);
    const vlx::core::ByteView plaintext = keys::varlena_view(PG_GETARG_DATUM(0));
    keys::LazySpi spi;
    const auto envelope = keys::encrypt(spi, "phi", context, plaintext);
    spi.finish();
    return keys::bytea_datum(envelope);
}

vlx::core::SecretBytes decrypt_body(FunctionCallInfo fcinfo) {
    const std::string context = context_arg(fcinfo, 1);
    const vlx::core::ByteView envelope = keys::varlena_view(PG_GETARG_DATUM(0));
    keys::LazySpi spi;
    vlx::core::SecretBytes plaintext = keys::decrypt(spi, envelope, context);
    spi.finish();
    return plaintext;
}

}  // namespace

// security.encrypt(plaintext text, context text DEFAULT '') -> bytea
VLX_FUNCTION(vlx_encrypt_text) { return encrypt_body(fcinfo); }

// security.encrypt(plaintext bytea, context text DEFAULT '') -> bytea
VLX_FUNCTION(vlx_encrypt_bytea) { return encrypt_body(fcinfo); }

// security.decrypt(ciphertext bytea, context text DEFAULT '') -> text
VLX_FUNCTION(vlx_decrypt) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    vlx::core::SecretBytes plaintext = decrypt_body(fcinfo);
    return keys::text_datum_checked(plaintext);
}

// security.decrypt_bytea(ciphertext bytea, context text DEFAULT '') -> bytea
VLX_FUNCTION(vlx_decrypt_bytea) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    vlx::core::SecretBytes plaintext = decrypt_body(fcinfo);
    return keys::bytea_datum(plaintext);
}

// security.envelope_key_id(bytea) / (text): the key a stored value names, NULL when it is
// not an envelope (or not armor). Does not authenticate.
VLX_FUNCTION(vlx_envelope_key_id) {
    const vlx::core::ByteView value = keys::varlena_view(PG_GETARG_DATUM(0));
    try {
        return Int32GetDatum(static_cast<std::int32_t>(vlx::core::peek_key_id(value)));
    } catch (const Error&) {
        PG_RETURN_NULL();
    }
}

VLX_FUNCTION(vlx_envelope_key_id_text) {
    const vlx::core::ByteView value = keys::varlena_view(PG_GETARG_DATUM(0));
    const std::string_view text(reinterpret_cast<const char*>(value.data()), value.size());
    // Only the header is read: the prefix and the first 8 base64 digits (6 bytes: version,
    // key id, one nonce byte), so counting keys over a large table stays cheap.
    constexpr std::size_t kPrefix = vlx::core::kArmorPrefix.size();
    if (text.size() < kPrefix + 8 || text.substr(0, kPrefix) != vlx::core::kArmorPrefix) PG_RETURN_NULL();
    const auto head = vlx::core::base64_decode(text.substr(kPrefix, 8));
    if (!head || head->size() != 6 || (*head)[0] != vlx::core::kEnvelopeVersion) PG_RETURN_NULL();
    const std::uint32_t key_id = (std::uint32_t((*head)[1]) << 24) | (std::uint32_t((*head)[2]) << 16) |
                                 (std::uint32_t((*head)[3]) << 8) | std::uint32_t((*head)[4]);
    return Int32GetDatum(static_cast<std::int32_t>(key_id));
}

// security.key_cache_stats() -> (cached_keys, capacity, hits, misses, evictions) of this backend.
VLX_FUNCTION(vlx_key_cache_stats) {
    const auto s = keys::cache_stats();
    return vlx::pg::call([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "return type must be a row type");
        desc = BlessTupleDesc(desc);
        Datum values[5] = {Int32GetDatum(static_cast<int>(s.size)), Int32GetDatum(static_cast<int>(s.capacity)),
                           Int64GetDatum(static_cast<std::int64_t>(s.hits)),
                           Int64GetDatum(static_cast<std::int64_t>(s.misses)),
                           Int64GetDatum(static_cast<std::int64_t>(s.evictions))};
        bool nulls[5] = {false, false, false, false, false};
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}
