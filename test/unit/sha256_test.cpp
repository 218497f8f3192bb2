// SHA-256 against FIPS 180-2 examples and NIST CAVP SHA256ShortMsg/LongMsg (from Debian's
// python3-cryptography-vectors, directory overridable with VLX_NIST_SHA_DIR).
#include "core/crypto/sha256.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_hex.hpp"

using namespace vlx::core;
using vlx::test::from_hex;
using vlx::test::to_hex;

TEST(Sha256, KnownAnswers) {
    EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalMatchesOneShotAtEverySplit) {
    const std::string text = "The quick brown fox jumps over the lazy dog, and the audit chain goes on.";
    const auto whole = sha256(text);
    for (std::size_t split = 0; split <= text.size(); ++split) {
        Sha256Hasher hasher;
        hasher.update(std::string_view(text).substr(0, split)).update(std::string_view(text).substr(split));
        EXPECT_EQ(hasher.finish(), whole) << "split " << split;
    }
}

TEST(Sha256, AMillionAsIncrementally) {
    Sha256Hasher hasher;
    const std::string thousand(1000, 'a');
    for (int i = 0; i < 1000; ++i) hasher.update(thousand);
    EXPECT_EQ(to_hex(hasher.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, UseAfterFinishIsAnInternalError) {
    Sha256Hasher hasher;
    hasher.update("x");
    hasher.finish();
    EXPECT_THROW(hasher.update("y"), Error);
    EXPECT_THROW(hasher.finish(), Error);
    Sha256Hasher moved_to(std::move(hasher));
    EXPECT_THROW(moved_to.finish(), Error);
}

TEST(Sha256, NistCavpShortAndLongMessages) {
    const std::string dir = vlx::test::env_or("VLX_NIST_SHA_DIR",
                                              "/usr/lib/python3/dist-packages/cryptography_vectors/hashes/SHA2");
    int cases = 0;
    for (const char* file : {"SHA256ShortMsg.rsp", "SHA256LongMsg.rsp"}) {
        std::ifstream in(dir + "/" + file);
        ASSERT_TRUE(in) << "cannot open " << dir << "/" << file;
        std::string line, msg;
        long bits = -1;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.rfind("Len = ", 0) == 0) bits = std::stol(line.substr(6));
            if (line.rfind("Msg = ", 0) == 0) msg = line.substr(6);
            if (line.rfind("MD = ", 0) == 0) {
                ASSERT_GE(bits, 0);
                // Len = 0 is written as "Msg = 00": the length, not the hex, is authoritative.
                auto bytes = from_hex(msg);
                bytes.resize(static_cast<std::size_t>(bits / 8));
                EXPECT_EQ(to_hex(sha256(bytes)), line.substr(5)) << file << " Len " << bits;
                ++cases;
                bits = -1;
            }
        }
    }
    EXPECT_GT(cases, 0);
    std::cout << "[ nist ] SHA-256: " << cases << " messages\n";
}
