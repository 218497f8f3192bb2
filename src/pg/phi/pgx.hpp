// Small PostgreSQL helpers of the PHI audit layer: arrays for the set-based statements,
// uuid/bytea conversions, the extension-write flag of the guard triggers.
#pragma once

#include <set>

#include "core/crypto/sha256.hpp"
#include "pg/boundary.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
extern "C" {
#include "access/htup_details.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::phi {

using Uuid = std::array<std::uint8_t, 16>;

// An array Datum of `elem` values (nullopt = NULL element).
Datum make_array(Oid elem, const std::vector<std::optional<Datum>>& values);
Datum uuid_datum(const Uuid& u);  // palloc'd
Uuid uuid_of(Datum d);
Datum bytea_datum(const std::uint8_t* data, std::size_t size);
Datum digest_datum(const core::Sha256Digest& d);
core::Sha256Digest digest_of(Datum bytea);  // 32 zero bytes when the length is wrong

// The sources of the chain (the flags of a chain block entry, audit_chain.source).
enum class Source : std::int16_t { AuditLogs = 1, SecurityEvents = 2 };

// Canonical column lists, in encoding order.
enum class ColType { Int8, Int4, Tstz, Uuid, Text, Inet, Jsonb };
struct ColSpec {
    const char* name;
    ColType type;
};
const std::vector<ColSpec>& columns(Source source);
const char* table_tag(Source source);

// The row hash from column values in columns(source) order.
core::Sha256Digest row_digest(Source source, const std::vector<std::optional<Datum>>& values);
// ... from a heap tuple of the table.
core::Sha256Digest tuple_digest(Source source, HeapTuple tuple, TupleDesc desc);

// Set while the extension itself changes chained tables (sealing, purge); the guard
// triggers let exactly those changes through. Reset by the destructor, also on error.
bool extension_write_active();
class ExtensionWrite {
public:
    ExtensionWrite();
    ~ExtensionWrite();
    ExtensionWrite(const ExtensionWrite&) = delete;
    ExtensionWrite& operator=(const ExtensionWrite&) = delete;

private:
    bool previous_;
};

// Rows a superuser restored (pg_restore: row_hash given and correct): already judged and
// chained in the dumped database, so the AFTER triggers neither judge nor queue them
// (their state and chain entries come back from the dump). take_restored() removes the id.
void note_restored(Source source, std::int64_t id);
bool take_restored(Source source, std::int64_t id);

// Which of these audit_logs ids the chain already holds (inside an open SPI connection).
std::set<std::int64_t> chained_audit_ids(const std::vector<std::int64_t>& ids);

// The sealer (inside an open SPI connection). wait=false: skip when another sealer holds
// the lock or the transaction is not READ COMMITTED. Returns the rows sealed.
std::int64_t seal(bool wait);

// Wall-clock ISO 8601 in UTC ("2026-12-04T03:30:00Z") for event details.
std::string iso_utc(std::int64_t ts);

}  // namespace vlx::pg::phi
