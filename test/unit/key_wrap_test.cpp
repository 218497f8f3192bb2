// Data-key wrapping under the master key, the master key fingerprint, and parsing the
// master key file's hex text.
#include "core/crypto/aes_gcm.hpp"
#include "core/crypto/key_wrap.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include "test_hex.hpp"

using namespace vlx::core;
using vlx::test::from_hex;
using vlx::test::to_hex;

namespace {

template <typename F>
ErrorKind kind_thrown(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind::Internal;  // nothing thrown: reported as a mismatch by the caller
}

struct KeyWrapTest : ::testing::Test {
    SecretBytes master = generate_data_key();  // any 32 random bytes will do
    SecretBytes data_key = generate_data_key();
};

}  // namespace

TEST_F(KeyWrapTest, RoundTrip) {
    const auto wrapped = wrap_data_key(master, data_key, "phi", 12);
    EXPECT_EQ(wrapped.size(), kWrappedKeySize);
    EXPECT_EQ(wrapped[0], kWrappedKeyVersion);
    SecretBytes back = unwrap_data_key(master, wrapped, "phi", 12);
    EXPECT_EQ(to_hex(back), to_hex(data_key));
    // A fresh nonce each time: wrapping twice gives different bytes.
    EXPECT_NE(wrap_data_key(master, data_key, "phi", 12), wrapped);
}

TEST_F(KeyWrapTest, GeneratedKeysAreDistinct) {
    SecretBytes other = generate_data_key();
    EXPECT_EQ(other.size(), kDataKeySize);
    EXPECT_NE(to_hex(other), to_hex(data_key));
}

TEST_F(KeyWrapTest, WrongMasterPurposeOrKeyIdIsRejected) {
    const auto wrapped = wrap_data_key(master, data_key, "phi", 12);
    SecretBytes other_master = generate_data_key();
    EXPECT_EQ(kind_thrown([&] { unwrap_data_key(other_master, wrapped, "phi", 12); }), ErrorKind::DataCorrupted);
    EXPECT_EQ(kind_thrown([&] { unwrap_data_key(master, wrapped, "payment", 12); }), ErrorKind::DataCorrupted);
    EXPECT_EQ(kind_thrown([&] { unwrap_data_key(master, wrapped, "ph", 12); }), ErrorKind::DataCorrupted);
    EXPECT_EQ(kind_thrown([&] { unwrap_data_key(master, wrapped, "", 12); }), ErrorKind::DataCorrupted);
    EXPECT_EQ(kind_thrown([&] { unwrap_data_key(master, wrapped, "phi", 13); }), ErrorKind::DataCorrupted);
    EXPECT_EQ(kind_thrown([&] { unwrap_data_key(master, wrapped, "phi", 12u | (1u << 31)); }),
              ErrorKind::DataCorrupted);
}

TEST_F(KeyWrapTest, EveryBitFlipAndTruncationIsRejected) {
    const auto wrapped = wrap_data_key(master, data_key, "phi", 12);
    for (std::size_t i = 0; i < wrapped.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            auto tampered = wrapped;
            tampered[i] ^= static_cast<std::uint8_t>(1u << bit);
            EXPECT_EQ(kind_thrown([&] { unwrap_data_key(master, tampered, "phi", 12); }), ErrorKind::DataCorrupted)
                << "byte " << i << " bit " << bit;
        }
    }
    for (std::size_t length = 0; length < wrapped.size(); ++length) {
        EXPECT_EQ(kind_thrown([&] { unwrap_data_key(master, ByteView(wrapped.data(), length), "phi", 12); }),
                  ErrorKind::DataCorrupted)
            << "length " << length;
    }
}

TEST_F(KeyWrapTest, WrongSizedKeysAreInvalidParameters) {
    const auto short_key = random_bytes(16);
    EXPECT_EQ(kind_thrown([&] { wrap_data_key(short_key, data_key, "phi", 1); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_thrown([&] { wrap_data_key(master, short_key, "phi", 1); }), ErrorKind::InvalidParameter);
    const auto wrapped = wrap_data_key(master, data_key, "phi", 1);
    EXPECT_EQ(kind_thrown([&] { unwrap_data_key(short_key, wrapped, "phi", 1); }), ErrorKind::InvalidParameter);
    EXPECT_EQ(kind_thrown([&] { master_key_fingerprint(short_key); }), ErrorKind::InvalidParameter);
}

TEST(MasterKeyFingerprint, KnownAnswerAndNotTheKey) {
    // HMAC-SHA256(key = 00 01 .. 1f, "vitaluxe_security fingerprint v1"), computed with Python's hmac.
    std::vector<std::uint8_t> master(32);
    for (int i = 0; i < 32; ++i) master[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
    const auto fingerprint = master_key_fingerprint(master);
    EXPECT_EQ(to_hex(fingerprint), "24733971d208cdfbdefef08c5edd48795d6e6f5ffe7f5d9f9f1422111154e8ac");
    EXPECT_EQ(master_key_fingerprint(master), fingerprint);
    EXPECT_EQ(to_hex(fingerprint).find(to_hex(master).substr(0, 16)), std::string::npos);
    master[31] ^= 1;
    EXPECT_NE(master_key_fingerprint(master), fingerprint);
}

TEST(MasterKeyHex, ParsesExactly64HexDigits) {
    const std::string hex = "000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F";
    SecretBytes key = parse_master_key_hex(hex);
    ASSERT_EQ(key.size(), 32u);
    EXPECT_EQ(to_hex(key), "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    EXPECT_EQ(to_hex(parse_master_key_hex(hex + "\n")), to_hex(key));
    EXPECT_EQ(to_hex(parse_master_key_hex("  \t" + hex + " \r\n")), to_hex(key));
}

TEST(MasterKeyHex, RefusesAnythingElseWithoutEchoingIt) {
    const std::string hex = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const std::vector<std::string> bad = {
        "",
        "\n",
        hex.substr(0, 62),
        hex.substr(0, 63),
        hex + "0",
        hex + "00",
        hex.substr(0, 30) + "g" + hex.substr(31),
        hex.substr(0, 30) + " " + hex.substr(31),  // inner whitespace
        hex.substr(0, 32) + "\n" + hex.substr(32),
        "0x" + hex.substr(2),
        hex.substr(0, 63) + "\0",
        std::string(64, 'z'),
        hex.substr(0, 40) + "\xc3\xa9" + hex.substr(42),
    };
    for (const auto& text : bad) {
        try {
            parse_master_key_hex(text);
            ADD_FAILURE() << "accepted: [" << text << "]";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::InvalidParameter);
            const std::string message = std::string(e.what()) + e.detail() + e.hint();
            EXPECT_EQ(message.find(hex.substr(0, 8)), std::string::npos) << message;
            EXPECT_EQ(message.find(hex.substr(40, 8)), std::string::npos) << message;
        }
    }
}

TEST_F(KeyWrapTest, ErrorMessagesNeverCarryKeyMaterial) {
    auto wrapped = wrap_data_key(master, data_key, "phi", 12);
    wrapped[20] ^= 1;
    try {
        unwrap_data_key(master, wrapped, "phi", 12);
        FAIL() << "tampered key unwrapped";
    } catch (const Error& e) {
        const std::string message = std::string(e.what()) + e.detail() + e.hint();
        for (const SecretBytes* k : {&master, &data_key}) {
            EXPECT_EQ(message.find(to_hex(*k)), std::string::npos);
            EXPECT_EQ(message.find(to_hex(*k, true)), std::string::npos);
            EXPECT_EQ(message.find(std::string(reinterpret_cast<const char*>(k->data()), 6)), std::string::npos);
        }
    }
}
