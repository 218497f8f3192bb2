#include "pg/phi/chain_store.hpp"

#include <algorithm>

#include "core/audit/canonical.hpp"
#include "core/error.hpp"
#include "pg/spi.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "funcapi.h"
#include "utils/timestamp.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::phi::chain {

using core::audit::BlockEntry;

namespace {

constexpr long kBlocksPerFetch = 16;  // a block holds up to 10 000 entries (410 KB)

// Unpacks a block's entries; the detoasted copy is freed at once (a walk reads them all).
std::vector<BlockEntry> decode_entries(Datum d) {
    std::vector<BlockEntry> out;
    call([&] {
        bytea* b = DatumGetByteaPP(d);
        out = core::audit::decode_block(
            core::ByteView(reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(b)), VARSIZE_ANY_EXHDR(b)));
        if (reinterpret_cast<Pointer>(b) != DatumGetPointer(d)) pfree(b);
    });
    return out;
}

// The smallest and largest audit_logs id of a block's entries (the audit_ids range the
// index finds blocks by); none when it holds only security_events rows.
std::optional<std::pair<std::int64_t, std::int64_t>> audit_id_range(const std::vector<BlockEntry>& entries) {
    std::optional<std::pair<std::int64_t, std::int64_t>> out;
    for (const BlockEntry& e : entries) {
        if (e.source != static_cast<std::int16_t>(Source::AuditLogs)) continue;
        if (!out) out = std::make_pair(e.row_id, e.row_id);
        out->first = std::min(out->first, e.row_id);
        out->second = std::max(out->second, e.row_id);
    }
    return out;
}

}  // namespace

core::Sha256Digest append(std::int64_t seq_first, const core::Sha256Digest& prev_link,
                          const std::vector<BlockEntry>& entries, Datum horizon) {
    if (entries.empty()) throw core::Error(core::ErrorKind::Internal, "an empty chain block");
    const core::Sha256Digest link = core::audit::block_link(prev_link, entries);
    const auto ids = audit_id_range(entries);
    const std::string packed = core::audit::encode_block(entries);
    static spi::Statement insert(
        "WITH b AS (INSERT INTO security.audit_chain_block"
        "             (seq_first, seq_last, prev_link, link, entries, audit_ids, unpurged)"
        "           VALUES ($1, $2, $3, $4, $5,"
        "                   CASE WHEN $6::int8 IS NULL THEN 'empty'::pg_catalog.int8range"
        "                        ELSE pg_catalog.int8range($6, $7, '[]') END, $8) RETURNING 1),"
        " s AS (INSERT INTO security.audit_seal_state AS s (id, horizon, max_audit_id)"
        "       VALUES (1, $9, coalesce($7, 0))"
        "       ON CONFLICT (id) DO UPDATE SET horizon = excluded.horizon,"
        "          max_audit_id = GREATEST(s.max_audit_id, excluded.max_audit_id) RETURNING 1)"
        " SELECT (SELECT pg_catalog.count(*) FROM b), (SELECT pg_catalog.count(*) FROM s)",
        {INT8OID, INT8OID, BYTEAOID, BYTEAOID, BYTEAOID, INT8OID, INT8OID, INT4OID, XID8OID});
    spi::Args args(9);
    args.set(0, Int64GetDatum(seq_first));
    args.set(1, Int64GetDatum(seq_first + static_cast<std::int64_t>(entries.size()) - 1));
    args.set(2, digest_datum(prev_link));
    args.set(3, digest_datum(link));
    args.set(4, bytea_datum(reinterpret_cast<const std::uint8_t*>(packed.data()), packed.size()));
    if (ids) args.set(5, Int64GetDatum(ids->first)).set(6, Int64GetDatum(ids->second));
    args.set(7, Int32GetDatum(static_cast<std::int32_t>(entries.size())));
    args.set(8, horizon);
    spi::execute(insert, args, SPI_OK_SELECT);
    return link;
}

void for_each_block(std::optional<std::pair<std::int64_t, std::int64_t>> audit_ids,
                    const std::function<bool(const Block&)>& fn) {
    static spi::Statement all(
        "SELECT b.seq_first, b.seq_last, b.prev_link, b.link, b.entries, b.sealed_at"
        "  FROM security.audit_chain_block AS b ORDER BY b.seq_first",
        {});
    static spi::Statement meeting(
        "SELECT b.seq_first, b.seq_last, b.prev_link, b.link, b.entries, b.sealed_at"
        "  FROM security.audit_chain_block AS b"
        " WHERE b.audit_ids OPERATOR(pg_catalog.&&) pg_catalog.int8range($1, $2, '[]')"
        " ORDER BY b.seq_first",
        {INT8OID, INT8OID});
    spi::Statement& statement = audit_ids ? meeting : all;
    spi::Args args(audit_ids ? 2 : 0);
    if (audit_ids) args.set(0, Int64GetDatum(audit_ids->first)).set(1, Int64GetDatum(audit_ids->second));
    Portal portal = call([&] {
        return SPI_cursor_open(nullptr, statement.plan(), args.values(), args.nulls(), false);
    });
    for (;;) {
        const std::uint64_t n = call([&] {
            SPI_cursor_fetch(portal, true, kBlocksPerFetch);
            return SPI_processed;
        });
        if (n == 0) break;
        std::vector<Block> blocks(n);
        {
            spi::Rows rows(SPI_tuptable, n);
            for (std::uint64_t i = 0; i < n; ++i) {
                core::audit::StoredBlock& s = blocks[i].stored;
                s.seq_first = DatumGetInt64(*rows.get(i, 1));
                s.seq_last = DatumGetInt64(*rows.get(i, 2));
                s.prev_link = digest_of(*rows.get(i, 3));
                s.link = digest_of(*rows.get(i, 4));
                s.entries = decode_entries(*rows.get(i, 5));
                blocks[i].sealed_at = DatumGetTimestampTz(*rows.get(i, 6));
            }
        }
        call([] { SPI_freetuptable(SPI_tuptable); });
        bool more = true;
        for (const Block& b : blocks)
            if (more) more = fn(b);
        if (!more) break;
    }
    call([&] { SPI_cursor_close(portal); });
}

std::pair<std::int64_t, core::Sha256Digest> start() {
    static spi::Statement anchor("SELECT a.seq, a.link FROM security.audit_chain_anchor AS a", {});
    spi::Args none(0);
    spi::Rows r = spi::execute(anchor, none, SPI_OK_SELECT);
    if (r.empty()) return {0, core::audit::genesis()};
    return {DatumGetInt64(*r.get(0, 1)), digest_of(*r.get(0, 2))};
}

void fold_purged_prefix(Datum purged_before) {
    std::vector<std::int64_t> gone;  // blocks purged whole
    std::optional<std::pair<std::int64_t, core::Sha256Digest>> anchor;
    std::optional<Block> cut;  // the first block that keeps entries, without its purged head
    std::int64_t cut_from = 0;
    for_each_block(std::nullopt, [&](const Block& b) {
        const auto& es = b.stored.entries;
        std::size_t head = 0;
        while (head < es.size() && es[head].purged) ++head;
        if (head == es.size()) {
            gone.push_back(b.stored.seq_first);
            anchor = std::make_pair(b.stored.seq_last, b.stored.link);
            return true;
        }
        if (head > 0) {
            const std::vector<BlockEntry> dropped(es.begin(), es.begin() + static_cast<std::ptrdiff_t>(head));
            const core::Sha256Digest link = core::audit::block_link(b.stored.prev_link, dropped);
            anchor = std::make_pair(b.stored.seq_first + static_cast<std::int64_t>(head) - 1, link);
            cut = b;
            cut_from = b.stored.seq_first;
            cut->stored.entries.erase(cut->stored.entries.begin(), cut->stored.entries.begin() + static_cast<std::ptrdiff_t>(head));
            cut->stored.seq_first += static_cast<std::int64_t>(head);
            cut->stored.prev_link = link;
        }
        return false;
    });
    if (!anchor) return;
    static spi::Statement drop(
        "DELETE FROM security.audit_chain_block AS b WHERE b.seq_first = ANY ($1::int8[])", {INT8ARRAYOID});
    static spi::Statement shorten(
        "UPDATE security.audit_chain_block AS b SET seq_first = $2, prev_link = $3, entries = $4,"
        "       audit_ids = CASE WHEN $5::int8 IS NULL THEN 'empty'::pg_catalog.int8range"
        "                        ELSE pg_catalog.int8range($5, $6, '[]') END"
        " WHERE b.seq_first = $1",
        {INT8OID, INT8OID, BYTEAOID, BYTEAOID, INT8OID, INT8OID});
    static spi::Statement set_anchor(
        "INSERT INTO security.audit_chain_anchor AS x (id, seq, link, purged_before) VALUES (1, $1, $2, $3)"
        " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, link = excluded.link,"
        "    purged_before = GREATEST(x.purged_before, excluded.purged_before), created_at = pg_catalog.now()",
        {INT8OID, BYTEAOID, TIMESTAMPTZOID});
    if (!gone.empty()) {
        std::vector<std::optional<Datum>> ids;
        for (std::int64_t s : gone) ids.emplace_back(Int64GetDatum(s));
        spi::Args a(1);
        a.set(0, make_array(INT8OID, ids));
        spi::execute(drop, a, SPI_OK_DELETE);
    }
    if (cut) {
        const auto ids = audit_id_range(cut->stored.entries);
        const std::string packed = core::audit::encode_block(cut->stored.entries);
        spi::Args a(6);
        a.set(0, Int64GetDatum(cut_from));
        a.set(1, Int64GetDatum(cut->stored.seq_first));
        a.set(2, digest_datum(cut->stored.prev_link));
        a.set(3, bytea_datum(reinterpret_cast<const std::uint8_t*>(packed.data()), packed.size()));
        if (ids) a.set(4, Int64GetDatum(ids->first)).set(5, Int64GetDatum(ids->second));
        spi::execute(shorten, a, SPI_OK_UPDATE);
    }
    spi::Args a(3);
    a.set(0, Int64GetDatum(anchor->first));
    a.set(1, digest_datum(anchor->second));
    a.set(2, purged_before);
    spi::execute(set_anchor, a, SPI_OK_INSERT);
}

}  // namespace vlx::pg::phi::chain

namespace vlx::pg::phi {

std::set<std::int64_t> chained_audit_ids(const std::vector<std::int64_t>& ids) {
    std::set<std::int64_t> out;
    if (ids.empty()) return out;
    const std::set<std::int64_t> wanted(ids.begin(), ids.end());
    chain::for_each_block(std::make_pair(*wanted.begin(), *wanted.rbegin()), [&](const chain::Block& b) {
        for (const core::audit::BlockEntry& e : b.stored.entries)
            if (e.source == static_cast<std::int16_t>(Source::AuditLogs) && wanted.count(e.row_id)) out.insert(e.row_id);
        return true;
    });
    return out;
}

}  // namespace vlx::pg::phi

namespace {

namespace phi = vlx::pg::phi;
namespace spi = vlx::pg::spi;
using vlx::pg::call;

// The entries of these blocks, with their links; `wanted` (when given) keeps only those
// audit_logs ids.
void put_entries(ReturnSetInfo* rsinfo, const phi::chain::Block& b, const std::set<std::int64_t>* wanted) {
    vlx::core::Sha256Digest previous = b.stored.prev_link;
    std::int64_t seq = b.stored.seq_first;
    for (const vlx::core::audit::BlockEntry& e : b.stored.entries) {
        const vlx::core::Sha256Digest link = vlx::core::audit::chain_link(previous, e.row_hash);
        const bool keep = !wanted || (e.source == static_cast<std::int16_t>(phi::Source::AuditLogs) && wanted->count(e.row_id));
        if (keep) {
            Datum v[8] = {Int64GetDatum(seq), Int16GetDatum(e.source), Int64GetDatum(e.row_id),
                          phi::digest_datum(e.row_hash), phi::digest_datum(previous), phi::digest_datum(link),
                          TimestampTzGetDatum(b.sealed_at), BoolGetDatum(e.purged)};
            bool n[8] = {false, false, false, false, false, false, false, false};
            call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n); });
        }
        previous = link;
        ++seq;
    }
}

}  // namespace

// security._audit_chain_entries(audit_ids bigint[] DEFAULT NULL)
VLX_FUNCTION(vlx_audit_chain_entries) {
    std::optional<std::set<std::int64_t>> wanted;
    call([&] {
        InitMaterializedSRF(fcinfo, 0);
        if (PG_ARGISNULL(0)) return;
        ArrayType* arr = PG_GETARG_ARRAYTYPE_P(0);
        Datum* elems = nullptr;
        bool* nulls = nullptr;
        int n = 0;
        deconstruct_array(arr, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
        wanted.emplace();
        for (int i = 0; i < n; ++i)
            if (!nulls[i]) wanted->insert(DatumGetInt64(elems[i]));
    });
    if (wanted && wanted->empty()) return Datum(0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    spi::Connection conn;
    std::optional<std::pair<std::int64_t, std::int64_t>> range;
    if (wanted) range = std::make_pair(*wanted->begin(), *wanted->rbegin());
    phi::chain::for_each_block(range, [&](const phi::chain::Block& b) {
        put_entries(rsinfo, b, wanted ? &*wanted : nullptr);
        return true;
    });
    conn.finish();
    return Datum(0);
}
