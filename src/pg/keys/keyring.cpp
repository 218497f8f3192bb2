#include "pg/keys/keyring.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>

#include "core/crypto/envelope.hpp"
#include "core/crypto/key_wrap.hpp"
#include "core/error.hpp"
#include "core/keys/key_policy.hpp"
#include "pg/datum.hpp"
#include "pg/events.hpp"
#include "pg/keys/varlena.hpp"
#include "pg/settings.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::keys {
namespace {

using core::Error;
using core::ErrorKind;
using core::SecretBytes;
using core::Setting;

constexpr const char* kMasterKeyHint =
    "Set vitaluxe_security.master_key_file (a file of 64 hexadecimal digits, mode 0600, owned by the server's "
    "OS user) or vitaluxe_security.master_key_command (a command that prints them); both are superuser-only.";

// ---- master key -------------------------------------------------------------------------

SecretBytes g_master;
std::string g_master_source;  // the setting value it was read from ("file:..." or "command:...")

[[noreturn]] void master_key_error(const std::string& message, std::string detail = {}) {
    throw Error(ErrorKind::ConfigurationMissing, message, std::move(detail), kMasterKeyHint);
}

// At most this many bytes of key file or command output are read: 64 hex digits and
// whitespace fit with room to spare; more is not a key.
constexpr std::size_t kMaxKeyText = 1024;

SecretBytes read_key_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        master_key_error("could not open master key file \"" + path + "\"", std::string(strerror(errno)));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        master_key_error("master key file \"" + path + "\" is not a regular file");
    if (!core::keys::master_key_file_mode_ok(static_cast<unsigned>(st.st_mode))) {
        char mode[16];
        snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        master_key_error("master key file \"" + path + "\" is readable by its group or by others (mode " + mode +
                             "): refused",
                         "chmod 0600 the file.");
    }
    SecretBytes buffer(kMaxKeyText + 1);
    std::size_t got = 0;
    while (got < buffer.size()) {
        const ssize_t n = ::read(fd, buffer.data() + got, buffer.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) master_key_error("could not read master key file \"" + path + "\"");
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    if (got > kMaxKeyText) master_key_error("master key file \"" + path + "\" is too long to hold a key");
    try {
        return core::parse_master_key_hex(
            std::string_view(reinterpret_cast<const char*>(buffer.data()), got));
    } catch (const Error&) {
        master_key_error("master key file \"" + path + "\" does not hold a key of 64 hexadecimal digits");
    }
}

SecretBytes read_key_command(const std::string& command) {
    fflush(nullptr);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) master_key_error("could not run vitaluxe_security.master_key_command");
    SecretBytes buffer(kMaxKeyText + 1);
    std::size_t got = 0;
    while (got < buffer.size()) {
        const std::size_t n = ::fread(buffer.data() + got, 1, buffer.size() - got, pipe);
        if (n == 0) break;
        got += n;
    }
    // Drain the rest so the command does not die of SIGPIPE before we read its status.
    char sink[256];
    while (::fread(sink, 1, sizeof sink, pipe) > 0) {
    }
    const int status = ::pclose(pipe);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        master_key_error("vitaluxe_security.master_key_command failed",
                         status == -1 ? std::string("could not wait for the command")
                                      : "exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    if (got > kMaxKeyText) master_key_error("vitaluxe_security.master_key_command printed too much to be a key");
    try {
        return core::parse_master_key_hex(
            std::string_view(reinterpret_cast<const char*>(buffer.data()), got));
    } catch (const Error&) {
        master_key_error("vitaluxe_security.master_key_command did not print a key of 64 hexadecimal digits");
    }
}

// ---- data keys --------------------------------------------------------------------------

struct ActiveKey {
    std::uint32_t key_id = 0;
    std::int64_t remaining = 0;  // reserved encryptions not used yet
};

std::optional<core::keys::KeyCache> g_cache;
std::map<std::string, ActiveKey> g_active;  // by purpose
std::set<std::uint32_t> g_age_checked;
Oid g_keys_relid = InvalidOid;
bool g_callbacks_registered = false;
// A reservation was taken in the current transaction (and is rolled back with it).
bool g_reserved_in_xact = false;
// The key_max_encryptions the reservations were taken under: a lower limit drops them.
std::int64_t g_reservation_limit = 0;

void forget_reservations() {
    for (auto& [purpose, key] : g_active) key.remaining = 0;
}

void on_relcache(Datum, Oid relid) {
    if (relid == InvalidOid || relid == g_keys_relid) {
        g_active.clear();
        if (relid == InvalidOid) g_keys_relid = InvalidOid;
    }
}

// An aborted (sub)transaction rolls back the reservation update: drop what we hold, so
// the counter never lags behind the encryptions (at worst it runs ahead).
void on_xact(XactEvent event, void*) {
    if ((event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) && g_reserved_in_xact) forget_reservations();
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
        event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
        g_reserved_in_xact = false;
}
// A subtransaction abort may roll back a reservation taken inside it: drop it (the
// counter may then run ahead of the real count, never behind).
void on_subxact(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
    if (event == SUBXACT_EVENT_ABORT_SUB && g_reserved_in_xact) forget_reservations();
}

void register_callbacks() {
    if (g_callbacks_registered) return;
    call([] {
        CacheRegisterRelcacheCallback(on_relcache, 0);
        RegisterXactCallback(on_xact, nullptr);
        RegisterSubXactCallback(on_subxact, nullptr);
    });
    g_callbacks_registered = true;
}

Oid keys_relid() {
    if (g_keys_relid == InvalidOid) {
        g_keys_relid = call([] {
            Oid ns = get_namespace_oid("security", false);
            Oid rel = get_relname_relid("encryption_keys", ns);
            if (rel == InvalidOid) elog(ERROR, "security.encryption_keys is missing");
            return rel;
        });
    }
    return g_keys_relid;
}

core::keys::KeyCache& cache() {
    const auto capacity = static_cast<std::size_t>(settings::integer(Setting::KeyCacheSize));
    if (!g_cache) g_cache.emplace(capacity);
    if (g_cache->stats().capacity != capacity) g_cache->set_capacity(capacity);
    return *g_cache;
}

std::vector<std::uint8_t> bytea_bytes(Datum d) {
    return call([&] {
        bytea* b = DatumGetByteaPP(d);
        const auto* p = reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(b));
        return std::vector<std::uint8_t>(p, p + VARSIZE_ANY_EXHDR(b));
    });
}

// Reserves one encryption on the active key of purpose and returns the key id.
std::uint32_t reserve(LazySpi& spi, const std::string& purpose) {
    register_callbacks();
    keys_relid();
    const std::int64_t limit = settings::key_max_encryptions();
    const std::int64_t block = core::keys::reservation_block(limit);
    if (limit != g_reservation_limit) {
        forget_reservations();
        g_reservation_limit = limit;
    }
    auto found = g_active.find(purpose);
    if (found != g_active.end() && found->second.key_id != 0 && found->second.remaining > 0) {
        --found->second.remaining;
        return found->second.key_id;
    }
    spi.ensure();
    // The count is the folded column plus the reservations not folded yet. A reservation
    // is an INSERT into key_usage: the application never locks a key row, so rotation and
    // compromise (which update key rows) never wait for an application transaction, nor
    // it for them.
    static spi::Statement current(
        "SELECT k.key_id, k.encryptions OPERATOR(pg_catalog.+) coalesce((SELECT pg_catalog.sum(u.reserved)"
        "         FROM security.key_usage u WHERE u.key_id OPERATOR(pg_catalog.=) k.key_id), 0)::bigint"
        "  FROM security.encryption_keys k"
        " WHERE k.purpose OPERATOR(pg_catalog.=) $1 AND k.status OPERATOR(pg_catalog.=) 'active'",
        {TEXTOID});
    static spi::Statement take(
        "INSERT INTO security.key_usage (key_id, reserved, reserved_at) VALUES ($1, $2, $3)",
        {INT4OID, INT8OID, TIMESTAMPTZOID});
    static spi::Statement at_limit(
        "UPDATE security.encryption_keys SET status = 'retired', rotated_at = $2"
        " WHERE key_id OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.=) 'active'"
        " RETURNING key_id",
        {INT4OID, TIMESTAMPTZOID});
    for (int attempt = 0; attempt < 4; ++attempt) {
        spi::Args args(1);
        args.set(0, datum::make_text(purpose));
        spi::Rows rows = spi::execute(current, args, SPI_OK_SELECT);
        std::optional<std::uint32_t> key_id;
        if (rows.size() == 1) {
            key_id = static_cast<std::uint32_t>(DatumGetInt32(*rows.get(0, 1)));
            const std::int64_t used = DatumGetInt64(*rows.get(0, 2));
            if (!core::keys::must_rotate_before(used, block, limit)) {
                spi::Args t(3);
                t.set(0, Int32GetDatum(static_cast<std::int32_t>(*key_id))).set(1, Int64GetDatum(block));
                t.set(2, TimestampTzGetDatum(clock_now()));
                spi::execute(take, t, SPI_OK_INSERT);
                g_active[purpose] = ActiveKey{*key_id, block - 1};
                g_reserved_in_xact = true;
                if (g_age_checked.insert(*key_id).second) check_key_ages(spi);
                return *key_id;
            }
        }
        // No active key, or the active key is at key_max_encryptions (GCM's random-nonce
        // bound): retire it (its values still decrypt; rotate_keys moves them) and make a
        // new one.
        spi::Rows retired(nullptr, 0);
        if (key_id) {
            spi::Args retire(2);
            retire.set(0, Int32GetDatum(static_cast<std::int32_t>(*key_id))).set(1, TimestampTzGetDatum(clock_now()));
            retired = spi::execute(at_limit, retire, SPI_OK_UPDATE_RETURNING);
        }
        if (!retired.empty())
            call([&] {
                ereport(NOTICE, (errmsg("data key %d reached vitaluxe_security.key_max_encryptions and was retired",
                                        DatumGetInt32(*retired.get(0, 1))),
                                 errhint("CALL security.rotate_keys() re-encrypts its values.")));
            });
        create_key(spi, purpose);
        keys_changed();
        call([] { CommandCounterIncrement(); });
    }
    throw Error(ErrorKind::Internal, "could not obtain an active data key");
}

}  // namespace

std::int64_t clock_now() { return GetCurrentTransactionStartTimestamp() + settings::clock_offset_us(); }

const SecretBytes& master_key() {
    const std::string file = settings::string(Setting::MasterKeyFile);
    const std::string command = settings::string(Setting::MasterKeyCommand);
    std::string source;
    if (!file.empty())
        source = "file:" + file;
    else if (!command.empty())
        source = "command:" + command;
    else
        master_key_error("no master key is configured");
    if (!g_master.empty() && source == g_master_source) return g_master;
    g_master.wipe();
    g_master_source.clear();
    SecretBytes key = !file.empty() ? read_key_file(file) : read_key_command(command);
    // Another master key: the data keys unwrapped under the previous one are dropped, so
    // every key is checked against the new one (fingerprint) before it is used again.
    if (g_cache) g_cache->clear();
    g_master = std::move(key);
    g_master_source = source;
    return g_master;
}

std::uint32_t create_key(LazySpi& spi, const std::string& purpose) {
    spi.ensure();
    static spi::Statement next_id(
        "SELECT pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('security.encryption_keys', 'key_id'))::integer",
        {});
    static spi::Statement insert(
        "INSERT INTO security.encryption_keys"
        " (key_id, purpose, wrapped_key, master_key_fingerprint, status, created_at)"
        " OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, 'active', $5)"
        " ON CONFLICT (purpose) WHERE status = 'active' DO NOTHING RETURNING key_id",
        {INT4OID, TEXTOID, BYTEAOID, BYTEAOID, TIMESTAMPTZOID});
    const SecretBytes& master = master_key();
    spi::Args none(0);
    spi::Rows id_rows = spi::execute(next_id, none, SPI_OK_SELECT);
    const auto key_id = static_cast<std::uint32_t>(DatumGetInt32(*id_rows.get(0, 1)));
    SecretBytes data_key = core::generate_data_key();
    const auto wrapped = core::wrap_data_key(master, data_key, purpose, key_id);
    const auto fingerprint = core::master_key_fingerprint(master);
    spi::Args args(5);
    args.set(0, Int32GetDatum(static_cast<std::int32_t>(key_id)));
    args.set(1, datum::make_text(purpose));
    args.set(2, bytea_datum(wrapped));
    args.set(3, bytea_datum(core::ByteView(fingerprint)));
    args.set(4, TimestampTzGetDatum(clock_now()));
    spi::Rows rows = spi::execute(insert, args, SPI_OK_INSERT_RETURNING);
    if (rows.empty()) return 0;
    cache().put(key_id, std::move(data_key));
    return key_id;
}

const SecretBytes& data_key(LazySpi& spi, std::uint32_t key_id) {
    register_callbacks();
    auto& c = cache();
    if (const SecretBytes* k = c.get(key_id)) return *k;
    spi.ensure();
    static spi::Statement fetch(
        "SELECT purpose, wrapped_key, master_key_fingerprint, status FROM security.encryption_keys"
        " WHERE key_id OPERATOR(pg_catalog.=) $1",
        {INT4OID});
    spi::Args args(1);
    args.set(0, Int32GetDatum(static_cast<std::int32_t>(key_id)));
    spi::Rows rows = spi::execute(fetch, args, SPI_OK_SELECT);
    if (rows.empty())
        throw Error(ErrorKind::DataCorrupted, "the value names a data key that does not exist",
                    "key id " + std::to_string(key_id));
    const std::string purpose = datum::to_string(*rows.get(0, 1));
    const auto wrapped = bytea_bytes(*rows.get(0, 2));
    const std::string status = datum::to_string(*rows.get(0, 4));
    if (status == "destroyed")
        throw Error(ErrorKind::DataCorrupted, "the value is sealed under a destroyed data key",
                    "key id " + std::to_string(key_id));
    const SecretBytes& master = master_key();
    if (auto fp = rows.get(0, 3)) {
        const auto stored = bytea_bytes(*fp);
        const auto current = core::master_key_fingerprint(master);
        if (stored.size() != current.size() || !std::equal(stored.begin(), stored.end(), current.begin()))
            throw Error(ErrorKind::ConfigurationMissing,
                        "data key " + std::to_string(key_id) + " is wrapped by a different master key",
                        "The configured master key is not the one that wrapped this data key.",
                        "Configure the master key that wrapped it, or run security.rewrap_keys(old_master_key_hex) "
                        "after a master key change.");
    }
    SecretBytes key = core::unwrap_data_key(master, wrapped, purpose, key_id);
    return c.put(key_id, std::move(key));
}

std::vector<std::uint8_t> encrypt(LazySpi& spi, const std::string& purpose, std::string_view context,
                                  core::ByteView plaintext) {
    master_key();  // a changed or broken master key setting is noticed at once
    const std::uint32_t key_id = reserve(spi, purpose);
    const SecretBytes& key = data_key(spi, key_id);
    return core::encrypt_envelope(key, key_id, context, plaintext);
}

SecretBytes decrypt(LazySpi& spi, core::ByteView envelope, std::string_view context) {
    master_key();
    const std::uint32_t key_id = core::peek_key_id(envelope);
    const SecretBytes& key = data_key(spi, key_id);
    return core::decrypt_envelope(key, envelope, context);
}

void keys_changed() {
    const Oid rel = keys_relid();
    call([&] { CacheInvalidateRelcacheByRelid(rel); });
}

void fold_usage(LazySpi& spi) {
    spi.ensure();
    static spi::Statement fold(
        "WITH used AS (DELETE FROM security.key_usage RETURNING key_id, reserved),"
        " per_key AS (SELECT key_id, pg_catalog.sum(reserved)::bigint AS n FROM used GROUP BY key_id)"
        " UPDATE security.encryption_keys k SET encryptions = k.encryptions OPERATOR(pg_catalog.+) p.n"
        "   FROM per_key p WHERE k.key_id OPERATOR(pg_catalog.=) p.key_id",
        {});
    spi::Args none(0);
    spi::execute(fold, none, SPI_OK_UPDATE);
}

int check_key_ages(LazySpi& spi) {
    spi.ensure();
    static spi::Statement due(
        "SELECT k.key_id, k.purpose, k.created_at FROM security.encryption_keys k"
        " WHERE k.status OPERATOR(pg_catalog.=) 'active'"
        "   AND k.created_at OPERATOR(pg_catalog.<) $1"
        "   AND NOT EXISTS (SELECT 1 FROM security.security_events e"
        "                    WHERE e.event_type OPERATOR(pg_catalog.=) 'key_rotation_due'"
        "                      AND (e.details OPERATOR(pg_catalog.->>) 'key_id') OPERATOR(pg_catalog.=) k.key_id::text)"
        " ORDER BY k.key_id",
        {TIMESTAMPTZOID});
    const std::int64_t now = clock_now();
    spi::Args args(1);
    args.set(0, TimestampTzGetDatum(now - settings::interval_us(Setting::KeyMaxAge)));
    spi::Rows rows = spi::execute(due, args, SPI_OK_SELECT);
    struct Due {
        std::int32_t key_id;
        std::string purpose;
        std::int64_t created_at;
    };
    std::vector<Due> list;
    for (std::uint64_t i = 0; i < rows.size(); ++i)
        list.push_back(Due{DatumGetInt32(*rows.get(i, 1)), datum::to_string(*rows.get(i, 2)),
                           DatumGetTimestampTz(*rows.get(i, 3))});
    for (const auto& d : list) {
        events::Event ev;
        ev.event_type = "key_rotation_due";
        ev.severity = "medium";
        ev.occurred_at = now;
        const std::int64_t age_days = (now - d.created_at) / USECS_PER_DAY;
        ev.details_json = "{\"key_id\":" + std::to_string(d.key_id) + ",\"purpose\":" + datum::json_quote(d.purpose) +
                          ",\"age_days\":" + std::to_string(age_days) +
                          ",\"action\":\"CALL security.rotate_keys()\"}";
        events::raise(ev);
    }
    return static_cast<int>(list.size());
}

core::keys::KeyCacheStats cache_stats() {
    if (!g_cache) {
        core::keys::KeyCacheStats s;
        s.capacity = static_cast<std::size_t>(settings::integer(Setting::KeyCacheSize));
        return s;
    }
    return cache().stats();
}

Oid function_owner(FunctionCallInfo fcinfo) {
    return call([&] {
        HeapTuple tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
        if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
        Oid owner = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tup))->proowner;
        ReleaseSysCache(tup);
        return owner;
    });
}

OwnerScope::OwnerScope(FunctionCallInfo fcinfo) {
    const Oid owner = function_owner(fcinfo);
    call([&] {
        GetUserIdAndSecContext(&saved_user_, &saved_context_);
        nest_level_ = NewGUCNestLevel();
        SetUserIdAndSecContext(owner, saved_context_ | SECURITY_LOCAL_USERID_CHANGE);
        set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                          false);
    });
    active_ = true;
}

void OwnerScope::end() {
    if (!active_) return;
    active_ = false;
    call([&] {
        AtEOXact_GUC(true, nest_level_);
        SetUserIdAndSecContext(saved_user_, saved_context_);
    });
}

}  // namespace vlx::pg::keys
