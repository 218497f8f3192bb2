// AES-256-GCM against Project Wycheproof's aes_gcm_test.json.
//
// Policy per group:
//  - keySize 256, ivSize 96, tagSize 128 (what the API supports): a "valid" case must
//    seal to exactly ct ‖ tag and open back to msg; an "invalid" case must fail to open
//    with DataCorrupted; an "acceptable" case (none in the current file) may be refused,
//    but if it opens it must give back exactly msg — never different bytes.
//  - any other IV size with a 256-bit key: seal and open must refuse it (InvalidParameter),
//    whatever the case's result, because non-96-bit nonces are excluded by design.
//  - any other key size: refused (InvalidParameter), the API is AES-256 only.
// A missing or unreadable vector file fails the test; so does a run of zero cases.
#include "core/crypto/aes_gcm.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "mini_json.hpp"
#include "test_hex.hpp"

using namespace vlx::core;
using vlx::test::from_hex;
using vlx::test::to_hex;

namespace {

std::string vector_path() {
    return vlx::test::env_or("VLX_TESTVECTORS_DIR", std::string(VLX_SOURCE_DIR) + "/../shared/testvectors") +
           "/wycheproof_aes_gcm_test.json";
}

vlx::test::json::Value load_vectors() {
    const std::string path = vector_path();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open Wycheproof vectors at " + path);
    std::stringstream text;
    text << in.rdbuf();
    return vlx::test::json::parse(text.str());
}

template <typename F>
ErrorKind kind_thrown(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind::Internal;  // "nothing thrown" is reported as a mismatch below
}

struct Counts {
    int valid = 0, invalid = 0, acceptable = 0, acceptable_refused = 0, other_iv = 0, other_key = 0;
};

}  // namespace

TEST(AesGcmWycheproof, AllCasesBehaveAsPolicyRequires) {
    vlx::test::json::Value doc;
    ASSERT_NO_THROW(doc = load_vectors()) << "vector file: " << vector_path();
    ASSERT_EQ(doc["algorithm"].string(), "AES-GCM");

    Counts n;
    int declared = static_cast<int>(doc["numberOfTests"].number());
    int seen = 0;
    for (const auto& group : doc["testGroups"].array()) {
        const int key_bits = static_cast<int>(group["keySize"].number());
        const int iv_bits = static_cast<int>(group["ivSize"].number());
        const int tag_bits = static_cast<int>(group["tagSize"].number());
        for (const auto& t : group["tests"].array()) {
            ++seen;
            const auto id = static_cast<int>(t["tcId"].number());
            const std::string& result = t["result"].string();
            const auto key = from_hex(t["key"].string());
            const auto iv = from_hex(t["iv"].string());
            const auto aad = from_hex(t["aad"].string());
            const auto msg = from_hex(t["msg"].string());
            auto sealed = from_hex(t["ct"].string());
            const auto tag = from_hex(t["tag"].string());
            sealed.insert(sealed.end(), tag.begin(), tag.end());
            SCOPED_TRACE("tcId " + std::to_string(id) + " (" + result + ", key " + std::to_string(key_bits) +
                         ", iv " + std::to_string(iv_bits) + ", tag " + std::to_string(tag_bits) + ")");

            if (key_bits != 256) {
                ++n.other_key;
                EXPECT_EQ(kind_thrown([&] { aes_gcm::seal(key, iv, aad, msg); }), ErrorKind::InvalidParameter);
                EXPECT_EQ(kind_thrown([&] { aes_gcm::open(key, iv, aad, sealed); }), ErrorKind::InvalidParameter);
                continue;
            }
            if (iv_bits != 96) {
                ++n.other_iv;
                EXPECT_EQ(kind_thrown([&] { aes_gcm::seal(key, iv, aad, msg); }), ErrorKind::InvalidParameter);
                EXPECT_EQ(kind_thrown([&] { aes_gcm::open(key, iv, aad, sealed); }), ErrorKind::InvalidParameter);
                continue;
            }
            ASSERT_EQ(tag_bits, 128) << "a 96-bit-IV group with another tag size needs a policy decision";

            if (result == "valid") {
                ++n.valid;
                EXPECT_EQ(to_hex(aes_gcm::seal(key, iv, aad, msg)), to_hex(sealed));
                SecretBytes opened = aes_gcm::open(key, iv, aad, sealed);
                EXPECT_EQ(to_hex(opened), to_hex(msg));
            } else if (result == "invalid") {
                ++n.invalid;
                EXPECT_EQ(kind_thrown([&] { aes_gcm::open(key, iv, aad, sealed); }), ErrorKind::DataCorrupted);
            } else {
                ASSERT_EQ(result, "acceptable");
                ++n.acceptable;
                try {
                    SecretBytes opened = aes_gcm::open(key, iv, aad, sealed);
                    EXPECT_EQ(to_hex(opened), to_hex(msg));
                } catch (const Error& e) {
                    EXPECT_EQ(e.kind(), ErrorKind::DataCorrupted);
                    ++n.acceptable_refused;
                }
            }
        }
    }
    std::cout << "[ wycheproof ] AES-256/96/128: " << n.valid << " valid, " << n.invalid << " invalid, "
              << n.acceptable << " acceptable (" << n.acceptable_refused << " refused); refused by design: "
              << n.other_iv << " other-IV-size, " << n.other_key << " other-key-size\n";
    EXPECT_EQ(seen, declared) << "every case in the file was visited";
    EXPECT_GT(n.valid, 0);
    EXPECT_GT(n.invalid, 0);
    EXPECT_GT(n.other_iv, 0);
}
