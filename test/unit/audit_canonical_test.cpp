#include <gtest/gtest.h>

#include "core/audit/canonical.hpp"

using namespace vlx::core;
using namespace vlx::core::audit;

TEST(CanonicalRow, EncodingIsTypedAndLengthPrefixed) {
    CanonicalRow r("audit_logs");
    r.integer(1).null().bytes(ByteView("ab"));
    const std::string expected = std::string("vlx-chain-v1\0audit_logs\0", 24) +
                                 std::string("\x01\0\0\0\0\0\0\0\x01", 9) + std::string("\0", 1) +
                                 std::string("\x02\0\0\0\x02" "ab", 7);
    EXPECT_EQ(r.encoding(), expected);
}

TEST(CanonicalRow, ShiftedColumnsDiffer) {
    CanonicalRow a("t"), b("t");
    a.bytes(ByteView("ab")).bytes(ByteView("c"));
    b.bytes(ByteView("a")).bytes(ByteView("bc"));
    EXPECT_NE(a.digest(), b.digest());
    CanonicalRow n("t"), e("t");
    n.null();
    e.bytes(ByteView(""));
    EXPECT_NE(n.digest(), e.digest());
    CanonicalRow t1("audit_logs"), t2("security_events");
    EXPECT_NE(t1.digest(), t2.digest());
}

TEST(Chain, LinkIsSha256OfPreviousAndRowHash) {
    Sha256Digest prev = genesis();
    Sha256Digest row = sha256(ByteView("row"));
    std::string cat(reinterpret_cast<const char*>(prev.data()), 32);
    cat.append(reinterpret_cast<const char*>(row.data()), 32);
    EXPECT_EQ(chain_link(prev, row), sha256(ByteView(cat)));
    EXPECT_EQ(to_hex(genesis()), std::string(64, '0'));
}
