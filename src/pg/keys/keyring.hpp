// The keyring of one backend (SPEC §4): the master key (read at first use from
// vitaluxe_security.master_key_file or master_key_command, re-read when the setting
// changes), the data keys in security.encryption_keys (created on demand, unwrapped into
// a bounded cache of wiped buffers), the active key per purpose and the encryption
// counter (reserved in blocks, see key_policy.hpp).
//
// Functions marked [SPI] need an SPI connection; they call spi.ensure() first, so a
// lazily opened connection costs nothing on the hot path (everything cached).
#pragma once

#include "core/crypto/byte_view.hpp"
#include "core/keys/key_cache.hpp"
#include "core/secret_bytes.hpp"
#include "pg/spi.hpp"

namespace vlx::pg::keys {

// An SPI connection opened on first need (or one the caller already holds).
class LazySpi {
public:
    LazySpi() = default;
    explicit LazySpi(bool already_open) : external_(already_open) {}
    void ensure() {
        if (!external_ && !conn_) conn_.emplace();
    }
    void finish() {
        if (conn_) conn_->finish();
    }
    bool open() const { return external_ || conn_.has_value(); }

private:
    bool external_ = false;
    std::optional<spi::Connection> conn_;
};

// The master key (loads it on first use or after its setting changed).
// ConfigurationMissing (55000) when neither setting is set, the file is unusable or
// group/world readable, or the command fails; never repeats key material.
const core::SecretBytes& master_key();

// Seals plaintext with the active key of `purpose`, bound to context.  [SPI]
std::vector<std::uint8_t> encrypt(LazySpi& spi, const std::string& purpose, std::string_view context,
                                  core::ByteView plaintext);

// Opens an envelope (DataCorrupted for anything but an authentic value for context).  [SPI]
core::SecretBytes decrypt(LazySpi& spi, core::ByteView envelope, std::string_view context);

// The data key of key_id, from the cache or unwrapped from encryption_keys.  [SPI]
const core::SecretBytes& data_key(LazySpi& spi, std::uint32_t key_id);

// Inserts a fresh active data key for purpose (the caller has retired the previous one)
// and returns its id; 0 when another backend created one concurrently.  [SPI]
std::uint32_t create_key(LazySpi& spi, const std::string& purpose);

// Tells every backend (at its next transaction or lock) that key statuses changed.
void keys_changed();

// Adds the reservations recorded in key_usage into encryption_keys.encryptions.  [SPI]
void fold_usage(LazySpi& spi);

// Raises key_rotation_due for each active key older than key_max_age that has none yet.
// Returns how many were raised.  [SPI]
int check_key_ages(LazySpi& spi);

core::keys::KeyCacheStats cache_stats();

// The transaction start plus clock_offset (security.now()).
std::int64_t clock_now();

// Runs as the owner of the called function with search_path pinned to
// pg_catalog, pg_temp, for procedures that cannot be SECURITY DEFINER (a SECURITY DEFINER
// procedure may not commit). end() restores; on an error, transaction abort restores.
class OwnerScope {
public:
    explicit OwnerScope(FunctionCallInfo fcinfo);
    void end();
    ~OwnerScope() = default;
    OwnerScope(const OwnerScope&) = delete;
    OwnerScope& operator=(const OwnerScope&) = delete;

private:
    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
    int nest_level_ = 0;
    bool active_ = false;
};

// Owner of the function being called (proowner).
Oid function_owner(FunctionCallInfo fcinfo);

}  // namespace vlx::pg::keys
