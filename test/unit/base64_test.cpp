// Base64 for armor: RFC 4648 test vectors and strict decoding.
#include "core/crypto/base64.hpp"

#include <gtest/gtest.h>

using namespace vlx::core;

namespace {
std::string decoded(std::string_view text) {
    auto bytes = base64_decode(text);
    return bytes ? std::string(bytes->begin(), bytes->end()) : std::string("<refused>");
}
}  // namespace

TEST(Base64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        EXPECT_EQ(decoded(encoded), plain);
    }
}

TEST(Base64, EveryByteValueRoundTrips) {
    std::vector<std::uint8_t> all(256);
    for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
    for (std::size_t n = 0; n <= all.size(); ++n) {
        const std::vector<std::uint8_t> prefix(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_EQ(base64_decode(base64_encode(prefix)), prefix) << n;
    }
    EXPECT_EQ(base64_encode(std::vector<std::uint8_t>{0xFB, 0xFF, 0xBF}), "+/+/");
}

TEST(Base64, StrictDecoding) {
    for (const char* text : {"Zg", "Zg=", "Zg===", "Z===", "====", "Zm8", "Zm9vY", "Zh==", "Zm9=", "Zg==Zg==",
                             "Z g=", "Zg==\n", "-_-_", "Zm9v\r\n", "Zm=v", "=Zm9"}) {
        EXPECT_EQ(decoded(text), "<refused>") << text;
    }
}
