#include "core/audit/chain_block.hpp"

#include "core/audit/canonical.hpp"
#include "core/error.hpp"

namespace vlx::core::audit {

namespace {
constexpr std::uint8_t kPurgedFlag = 0x80;
constexpr std::uint8_t kSourceMask = 0x03;
}  // namespace

std::string encode_block(const std::vector<BlockEntry>& entries) {
    std::string out;
    out.reserve(entries.size() * kBlockEntrySize);
    for (const BlockEntry& e : entries) {
        out.push_back(static_cast<char>((e.source & kSourceMask) | (e.purged ? kPurgedFlag : 0)));
        const auto id = static_cast<std::uint64_t>(e.row_id);
        for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((id >> (8 * i)) & 0xff));
        out.append(reinterpret_cast<const char*>(e.row_hash.data()), e.row_hash.size());
    }
    return out;
}

std::vector<BlockEntry> decode_block(ByteView bytes) {
    if (bytes.size() % kBlockEntrySize != 0)
        throw Error(ErrorKind::DataCorrupted, "a chain block is not a whole number of entries");
    std::vector<BlockEntry> out(bytes.size() / kBlockEntrySize);
    const std::uint8_t* p = bytes.data();
    for (BlockEntry& e : out) {
        const std::uint8_t flags = p[0];
        e.source = static_cast<std::int16_t>(flags & kSourceMask);
        e.purged = (flags & kPurgedFlag) != 0;
        if ((e.source != 1 && e.source != 2) || (flags & ~(kSourceMask | kPurgedFlag)) != 0)
            throw Error(ErrorKind::DataCorrupted, "a chain block entry has an unknown source");
        std::uint64_t id = 0;
        for (int i = 1; i <= 8; ++i) id = (id << 8) | p[i];
        e.row_id = static_cast<std::int64_t>(id);
        std::copy(p + 9, p + kBlockEntrySize, e.row_hash.begin());
        p += kBlockEntrySize;
    }
    return out;
}

Sha256Digest block_link(const Sha256Digest& previous, const std::vector<BlockEntry>& entries) {
    Sha256Digest link = previous;
    for (const BlockEntry& e : entries) link = chain_link(link, e.row_hash);
    return link;
}

std::optional<std::size_t> BlockWalker::step(const StoredBlock& block, const std::vector<RowCheck>& checks) {
    std::optional<std::size_t> broken;
    const auto n = static_cast<std::int64_t>(block.entries.size());
    if (n == 0 || block.seq_first != seq_ + 1 || block.seq_last != block.seq_first + n - 1 ||
        block.prev_link != link_)
        broken = 0;
    Sha256Digest link = block.prev_link;
    for (std::size_t i = 0; i < block.entries.size(); ++i) {
        const BlockEntry& e = block.entries[i];
        link = chain_link(link, e.row_hash);
        if (broken || e.purged) continue;
        const RowCheck& c = checks.at(i);
        if (!c.present || c.actual != e.row_hash) broken = i;
    }
    if (!broken && link != block.link) broken = 0;
    // Continue from what is stored.
    link_ = block.link;
    seq_ = block.seq_last;
    entries_ += n;
    if (broken) intact_ = false;
    return broken;
}

}  // namespace vlx::core::audit
