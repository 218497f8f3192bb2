// The stored envelope: round trips, rejection of every single-bit change (envelope and
// context), truncation, wrong keys, text armor, nonce uniqueness.
#include "core/crypto/aes_gcm.hpp"
#include "core/crypto/envelope.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <unordered_set>

#include "test_hex.hpp"

using namespace vlx::core;
using vlx::test::to_hex;

namespace {

const std::string kContext = "public.patients.allergies#42";
const std::string kPlaintext = "penicillin; latex";

std::string as_string(const SecretBytes& bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

ErrorKind decrypt_error(ByteView key, ByteView envelope, std::string_view context) {
    try {
        decrypt_envelope(key, envelope, context);
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind::Internal;  // decrypted: reported as a mismatch by the caller
}

struct EnvelopeTest : ::testing::Test {
    std::vector<std::uint8_t> key = random_bytes(32);
};

}  // namespace

TEST_F(EnvelopeTest, RoundTrip) {
    const auto envelope = encrypt_envelope(key, 7, kContext, kPlaintext);
    EXPECT_EQ(envelope.size(), kEnvelopeOverhead + kPlaintext.size());
    EXPECT_EQ(as_string(decrypt_envelope(key, envelope, kContext)), kPlaintext);
}

TEST_F(EnvelopeTest, EmptyPlaintextAndEmptyContext) {
    const auto envelope = encrypt_envelope(key, 1, "", "");
    EXPECT_EQ(envelope.size(), kEnvelopeOverhead);
    EXPECT_TRUE(decrypt_envelope(key, envelope, "").empty());
    EXPECT_EQ(decrypt_error(key, envelope, "x"), ErrorKind::DataCorrupted);
}

TEST_F(EnvelopeTest, OneMebibyte) {
    std::vector<std::uint8_t> big = random_bytes(1 << 20);
    const auto envelope = encrypt_envelope(key, 3, kContext, big);
    SecretBytes back = decrypt_envelope(key, envelope, kContext);
    ASSERT_EQ(back.size(), big.size());
    EXPECT_TRUE(std::equal(big.begin(), big.end(), back.data()));
}

TEST_F(EnvelopeTest, ByteLayout) {
    const auto envelope = encrypt_envelope(key, 0x01020304, kContext, kPlaintext);
    EXPECT_EQ(envelope[0], 0x01);
    EXPECT_EQ(to_hex(std::vector<std::uint8_t>(envelope.begin() + 1, envelope.begin() + 5)), "01020304");
    EXPECT_EQ(peek_key_id(envelope), 0x01020304u);
    // Independent re-derivation: GCM over the stated AAD with the stored nonce.
    std::vector<std::uint8_t> aad = {0x01, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, static_cast<std::uint8_t>(kContext.size())};
    aad.insert(aad.end(), kContext.begin(), kContext.end());
    const std::vector<std::uint8_t> nonce(envelope.begin() + 5, envelope.begin() + 17);
    const std::vector<std::uint8_t> sealed(envelope.begin() + 17, envelope.end());
    EXPECT_EQ(as_string(aes_gcm::open(key, nonce, aad, sealed)), kPlaintext);
    EXPECT_EQ(peek_key_id(encrypt_envelope(key, 0xFFFFFFFFu, "", "")), 0xFFFFFFFFu);
}

TEST_F(EnvelopeTest, EverySingleBitFlipOfTheEnvelopeIsRejected) {
    const auto envelope = encrypt_envelope(key, 9, kContext, kPlaintext);
    int flips = 0;
    for (std::size_t i = 0; i < envelope.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto tampered = envelope;
            tampered[i] ^= static_cast<std::uint8_t>(1u << bit);
            EXPECT_EQ(decrypt_error(key, tampered, kContext), ErrorKind::DataCorrupted) << "byte " << i << " bit " << bit;
            ++flips;
        }
    }
    EXPECT_EQ(flips, static_cast<int>(8 * (kEnvelopeOverhead + kPlaintext.size())));
}

TEST_F(EnvelopeTest, EverySingleBitFlipOfTheContextIsRejected) {
    const auto envelope = encrypt_envelope(key, 9, kContext, kPlaintext);
    for (std::size_t i = 0; i < kContext.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string context = kContext;
            context[i] = static_cast<char>(context[i] ^ (1 << bit));
            EXPECT_EQ(decrypt_error(key, envelope, context), ErrorKind::DataCorrupted) << "byte " << i << " bit " << bit;
        }
    }
    // Other rows, columns and lengths too.
    for (const char* other : {"public.patients.allergies#43", "public.patients.notes#42", "public.patients.allergies#4",
                              "public.patients.allergies#420", ""}) {
        EXPECT_EQ(decrypt_error(key, envelope, other), ErrorKind::DataCorrupted) << other;
    }
    EXPECT_EQ(decrypt_error(key, envelope, std::string_view("public.patients.allergies#42\0", 29)),
              ErrorKind::DataCorrupted);
}

TEST_F(EnvelopeTest, TruncationAtEveryLengthAndExtensionAreRejected) {
    const auto envelope = encrypt_envelope(key, 9, kContext, kPlaintext);
    for (std::size_t length = 0; length < envelope.size(); ++length) {
        const ByteView cut(envelope.data(), length);
        EXPECT_EQ(decrypt_error(key, cut, kContext), ErrorKind::DataCorrupted) << "length " << length;
        if (length < kEnvelopeOverhead) {
            EXPECT_THROW(peek_key_id(cut), Error) << "length " << length;
        }
    }
    auto longer = envelope;
    longer.push_back(0);
    EXPECT_EQ(decrypt_error(key, longer, kContext), ErrorKind::DataCorrupted);
}

TEST_F(EnvelopeTest, WrongKeyAndForeignValuesAreRejected) {
    const auto envelope = encrypt_envelope(key, 9, kContext, kPlaintext);
    EXPECT_EQ(decrypt_error(random_bytes(32), envelope, kContext), ErrorKind::DataCorrupted);
    // Same key, but the value names another key id (an attacker rewriting the header).
    auto renamed = envelope;
    renamed[4] = 10;
    EXPECT_EQ(decrypt_error(key, renamed, kContext), ErrorKind::DataCorrupted);
    // Random bytes of a plausible shape.
    auto foreign = random_bytes(envelope.size());
    foreign[0] = kEnvelopeVersion;
    EXPECT_EQ(decrypt_error(key, foreign, kContext), ErrorKind::DataCorrupted);
    // Another version byte is refused before any decryption.
    auto future = envelope;
    future[0] = 0x02;
    EXPECT_THROW(peek_key_id(future), Error);
    EXPECT_EQ(decrypt_error(key, future, kContext), ErrorKind::DataCorrupted);
}

TEST_F(EnvelopeTest, KeyOfTheWrongSizeIsAnInvalidParameter) {
    const auto envelope = encrypt_envelope(key, 9, kContext, kPlaintext);
    EXPECT_EQ(decrypt_error(random_bytes(16), envelope, kContext), ErrorKind::InvalidParameter);
    try {
        encrypt_envelope(random_bytes(31), 1, kContext, kPlaintext);
        ADD_FAILURE() << "a 31-byte key was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidParameter);
    }
}

TEST_F(EnvelopeTest, ArmorRoundTrip) {
    for (std::size_t size : {0u, 1u, 2u, 3u, 17u, 1000u}) {
        const auto envelope = encrypt_envelope(key, 5, kContext, random_bytes(size));
        const std::string text = armor(envelope);
        EXPECT_EQ(text.rfind("vlx1:", 0), 0u);
        EXPECT_TRUE(is_armored(text));
        EXPECT_EQ(unarmor(text), envelope);
        EXPECT_EQ(peek_key_id(unarmor(text)), 5u);
    }
}

TEST_F(EnvelopeTest, UnarmorIsStrict) {
    // 16 bytes of plaintext make a 49-byte envelope: the base64 ends in "==".
    const std::string good = armor(encrypt_envelope(key, 5, kContext, kPlaintext.substr(0, 16)));
    ASSERT_EQ(good.substr(good.size() - 2), "==");
    const std::string body = good.substr(5);
    std::vector<std::string> bad = {
        "",
        "vlx1:",
        body,                                   // no prefix
        "vlx2:" + body,                         // unknown armor version
        "VLX1:" + body,                         // prefix is case-sensitive
        " " + good,                             // no whitespace, anywhere
        good + "\n",
        good.substr(0, 10) + " " + good.substr(10),
        good.substr(0, good.size() - 1),        // wrong padding
        good.substr(0, good.size() - 2),
        good + "=",
        good.substr(0, good.size() - 4) + "====",
        good.substr(0, 12) + "=" + good.substr(13),  // padding in the middle
        good.substr(0, 12) + "-" + good.substr(13),  // base64url is not accepted
        good.substr(0, 12) + "_" + good.substr(13),
        good.substr(0, 12) + std::string(1, '\0') + good.substr(13),
        "vlx1:" + std::string(40, 'A'),         // well-formed base64, too short to be an envelope
        "plain text the app wrote",
    };
    // Well-formed armor around an envelope of another version.
    auto future = unarmor(good);
    future[0] = 0x02;
    bad.push_back(armor(future));
    // Non-canonical: the 4 unused low bits of the last data character set (A→B, Q→R, g→h, w→x).
    std::string noncanonical = good;
    char& last = noncanonical[noncanonical.size() - 3];
    ASSERT_NE(std::string("AQgw").find(last), std::string::npos);
    last = static_cast<char>(last + 1);
    bad.push_back(noncanonical);
    for (const auto& text : bad) {
        EXPECT_FALSE(is_armored(text)) << text;
        try {
            unarmor(text);
            ADD_FAILURE() << "accepted: " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::DataCorrupted);
        }
    }
}

TEST_F(EnvelopeTest, NoRepeatedNonceOverAMillionEncryptions) {
    constexpr int kCount = 1'000'000;
    std::unordered_set<std::string> nonces;
    nonces.reserve(kCount);
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < kCount; ++i) {
        const auto envelope = encrypt_envelope(key, 1, "", "");
        nonces.emplace(reinterpret_cast<const char*>(envelope.data() + kEnvelopeHeaderSize), aes_gcm::kNonceSize);
    }
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    std::cout << "[ nonces ] " << kCount << " encryptions in " << ms << " ms\n";
    EXPECT_EQ(nonces.size(), static_cast<std::size_t>(kCount));
}

TEST_F(EnvelopeTest, ErrorMessagesNeverCarryPlaintextOrKey) {
    const std::string secret = "SSN 123-45-6789 HIV positive";
    const auto envelope = encrypt_envelope(key, 9, kContext, secret);
    auto tampered = envelope;
    tampered.back() ^= 1;
    std::vector<std::string> messages;
    auto collect = [&](auto&& f) {
        try {
            f();
        } catch (const Error& e) {
            messages.push_back(std::string(e.what()) + "|" + e.detail() + "|" + e.hint());
        }
    };
    collect([&] { decrypt_envelope(key, tampered, kContext); });
    collect([&] { decrypt_envelope(key, envelope, "other"); });
    collect([&] { decrypt_envelope(random_bytes(32), envelope, kContext); });
    collect([&] { decrypt_envelope(key, ByteView(envelope.data(), 20), kContext); });
    collect([&] { unarmor("vlx1:" + secret); });
    collect([&] { unarmor(secret); });
    ASSERT_EQ(messages.size(), 6u);
    const std::string key_text(reinterpret_cast<const char*>(key.data()), key.size());
    for (const auto& m : messages) {
        EXPECT_EQ(m.find(secret), std::string::npos) << m;
        EXPECT_EQ(m.find("123-45"), std::string::npos) << m;
        EXPECT_EQ(m.find(to_hex(key)), std::string::npos) << m;
        EXPECT_EQ(m.find(to_hex(key, true)), std::string::npos) << m;
        EXPECT_EQ(m.find(key_text.substr(0, 8)), std::string::npos) << m;
        EXPECT_EQ(m.find(kContext), std::string::npos) << m;
    }
}
