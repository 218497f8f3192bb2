#include <gtest/gtest.h>

#include "core/audit/canonical.hpp"
#include "core/audit/chain_block.hpp"
#include "core/error.hpp"

using namespace vlx::core;
using namespace vlx::core::audit;

namespace {

BlockEntry entry(std::int16_t source, std::int64_t id) {
    BlockEntry e;
    e.source = source;
    e.row_id = id;
    e.row_hash = sha256(ByteView(std::to_string(source) + ":" + std::to_string(id)));
    return e;
}

// Blocks of `sizes` entries chained from genesis, ids 1, 2, ...
std::vector<StoredBlock> chain_of(std::initializer_list<int> sizes) {
    std::vector<StoredBlock> out;
    Sha256Digest link = genesis();
    std::int64_t seq = 0, id = 0;
    for (int n : sizes) {
        StoredBlock b;
        b.seq_first = seq + 1;
        for (int i = 0; i < n; ++i) b.entries.push_back(entry(1, ++id));
        seq += n;
        b.seq_last = seq;
        b.prev_link = link;
        link = block_link(link, b.entries);
        b.link = link;
        out.push_back(b);
    }
    return out;
}

std::vector<RowCheck> honest(const StoredBlock& b) {
    std::vector<RowCheck> c;
    for (const BlockEntry& e : b.entries) c.push_back(RowCheck{true, e.row_hash});
    return c;
}

// (block index, entry index) of the first break, or (-1, -1).
std::pair<int, int> first_break(const std::vector<StoredBlock>& blocks, std::vector<std::vector<RowCheck>> checks) {
    BlockWalker w(genesis(), 0);
    for (std::size_t i = 0; i < blocks.size(); ++i)
        if (auto at = w.step(blocks[i], checks[i])) return {static_cast<int>(i), static_cast<int>(*at)};
    return {-1, -1};
}

std::vector<std::vector<RowCheck>> honest_checks(const std::vector<StoredBlock>& blocks) {
    std::vector<std::vector<RowCheck>> c;
    for (const StoredBlock& b : blocks) c.push_back(honest(b));
    return c;
}

}  // namespace

TEST(ChainBlock, EncodesFortyOneBytesPerEntryAndRoundTrips) {
    std::vector<BlockEntry> es{entry(1, 7), entry(2, 1LL << 40), entry(1, 9)};
    es[2].purged = true;
    const std::string bytes = encode_block(es);
    ASSERT_EQ(bytes.size(), 3 * kBlockEntrySize);
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), 1);
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[kBlockEntrySize]), 2);
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[2 * kBlockEntrySize]), 0x81);
    EXPECT_EQ(static_cast<std::uint8_t>(bytes[8]), 7);  // big-endian id
    const auto back = decode_block(ByteView(bytes));
    ASSERT_EQ(back.size(), 3u);
    for (std::size_t i = 0; i < es.size(); ++i) {
        EXPECT_EQ(back[i].source, es[i].source);
        EXPECT_EQ(back[i].row_id, es[i].row_id);
        EXPECT_EQ(back[i].row_hash, es[i].row_hash);
        EXPECT_EQ(back[i].purged, es[i].purged);
    }
}

TEST(ChainBlock, RefusesTruncatedBlocksAndUnknownSources) {
    std::string bytes = encode_block({entry(1, 1)});
    EXPECT_THROW(decode_block(ByteView(bytes.substr(0, 40))), Error);
    bytes[0] = 3;
    EXPECT_THROW(decode_block(ByteView(bytes)), Error);
    bytes[0] = 0x41;
    EXPECT_THROW(decode_block(ByteView(bytes)), Error);
    EXPECT_TRUE(decode_block(ByteView(std::string())).empty());
}

TEST(ChainBlock, LinksRunThroughEntriesAsSingleEntryLinksDo) {
    const auto es = std::vector<BlockEntry>{entry(1, 1), entry(2, 1), entry(1, 2)};
    Sha256Digest link = genesis();
    for (const BlockEntry& e : es) link = chain_link(link, e.row_hash);
    EXPECT_EQ(block_link(genesis(), es), link);
}

TEST(ChainBlock, WalkerAcceptsAnHonestChain) {
    const auto blocks = chain_of({3, 1, 4});
    BlockWalker w(genesis(), 0);
    for (const StoredBlock& b : blocks) EXPECT_FALSE(w.step(b, honest(b)).has_value());
    EXPECT_TRUE(w.intact());
    EXPECT_EQ(w.entries_walked(), 8);
}

TEST(ChainBlock, WalkerFindsChangedAndDeletedRows) {
    const auto blocks = chain_of({3, 4});
    auto changed = honest_checks(blocks);
    changed[1][2].actual[0] ^= 1;
    EXPECT_EQ(first_break(blocks, changed), std::make_pair(1, 2));
    auto deleted = honest_checks(blocks);
    deleted[0][1].present = false;
    EXPECT_EQ(first_break(blocks, deleted), std::make_pair(0, 1));
}

TEST(ChainBlock, PurgedEntriesAreNotLookedAtButStillLinked) {
    auto blocks = chain_of({3});
    blocks[0].entries[1].purged = true;
    auto checks = honest_checks(blocks);
    checks[0][1].present = false;
    EXPECT_EQ(first_break(blocks, checks), std::make_pair(-1, -1));
    blocks[0].entries[1].row_hash[3] ^= 1;  // a purged entry's stored hash rewritten: the links tell
    EXPECT_EQ(first_break(blocks, checks).first, 0);
}

TEST(ChainBlock, WalkerFindsRewrittenEntriesLinksAndNumbering) {
    const auto blocks = chain_of({2, 2, 2});
    auto rehashed = blocks;  // an entry's stored hash rewritten to match a changed row
    rehashed[1].entries[1].row_hash[0] ^= 1;
    auto checks = honest_checks(rehashed);
    EXPECT_EQ(first_break(rehashed, checks), std::make_pair(1, 0));
    auto dropped = blocks;  // a whole block removed
    dropped.erase(dropped.begin() + 1);
    EXPECT_EQ(first_break(dropped, honest_checks(dropped)), std::make_pair(1, 0));
    auto renumbered = blocks;
    renumbered[2].seq_last += 1;
    EXPECT_EQ(first_break(renumbered, honest_checks(renumbered)), std::make_pair(2, 0));
    auto reordered = blocks;  // two entries swapped inside a block
    std::swap(reordered[0].entries[0], reordered[0].entries[1]);
    EXPECT_EQ(first_break(reordered, honest_checks(reordered)), std::make_pair(0, 0));
}

TEST(ChainBlock, WalkerContinuesAfterABreak) {
    const auto blocks = chain_of({2, 2, 2});
    auto checks = honest_checks(blocks);
    checks[0][0].present = false;
    checks[2][1].actual[1] ^= 1;
    BlockWalker w(genesis(), 0);
    EXPECT_EQ(w.step(blocks[0], checks[0]), std::optional<std::size_t>(0));
    EXPECT_FALSE(w.step(blocks[1], checks[1]).has_value());
    EXPECT_EQ(w.step(blocks[2], checks[2]), std::optional<std::size_t>(1));
    EXPECT_FALSE(w.intact());
}

TEST(ChainBlock, WalkerStartsFromTheAnchor) {
    auto blocks = chain_of({2, 2});
    BlockWalker w(blocks[0].link, blocks[0].seq_last);
    EXPECT_FALSE(w.step(blocks[1], honest(blocks[1])).has_value());
    BlockWalker wrong(genesis(), blocks[0].seq_last);
    EXPECT_TRUE(wrong.step(blocks[1], honest(blocks[1])).has_value());
}
