// AES-256-GCM against NIST CAVP gcmEncryptExtIV256.rsp and gcmDecrypt256.rsp (Debian's
// python3-cryptography-vectors). Every IVlen = 96, Taglen = 128 case must be right: the
// encryptions exact, the decryptions exact, the FAIL cases failing. The other sizes are
// outside the API by design and are checked to be refused. Missing files fail the test.
#include "core/crypto/aes_gcm.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>

#include "test_hex.hpp"

using namespace vlx::core;
using vlx::test::from_hex;
using vlx::test::to_hex;

namespace {

std::string vector_dir() {
    return vlx::test::env_or("VLX_NIST_GCM_DIR", "/usr/lib/python3/dist-packages/cryptography_vectors/ciphers/AES/GCM");
}

// One "Count = n" block with the [bracketed] section parameters in force.
struct CavpCase {
    std::map<std::string, std::string> section;  // Keylen, IVlen, PTlen, AADlen, Taglen
    std::map<std::string, std::string> fields;   // Count, Key, IV, PT, AAD, CT, Tag
    bool fail = false;                           // the decrypt file marks must-fail cases with FAIL
    int section_int(const std::string& name) const { return std::stoi(section.at(name)); }
};

std::string trim(std::string s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Reads the whole .rsp file (CRLF line ends, "CT = " with an empty value, FAIL lines).
std::vector<CavpCase> read_rsp(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open CAVP vectors at " + path);
    std::vector<CavpCase> cases;
    std::map<std::string, std::string> section;
    bool section_open = false;  // a new [..] run after cases starts a new section
    std::string line;
    while (std::getline(in, line)) {
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        if (line.front() == '[' && line.back() == ']') {
            if (!section_open) section.clear();
            section_open = true;
            const std::string body = line.substr(1, line.size() - 2);
            const auto eq = body.find('=');
            if (eq != std::string::npos) section[trim(body.substr(0, eq))] = trim(body.substr(eq + 1));
            continue;
        }
        section_open = false;
        if (line == "FAIL") {
            if (cases.empty()) throw std::runtime_error("FAIL before any case in " + path);
            cases.back().fail = true;
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string::npos) throw std::runtime_error("unexpected line in " + path + ": " + line);
        const std::string name = trim(line.substr(0, eq));
        const std::string value = trim(line.substr(eq + 1));
        if (name == "Count") {
            cases.push_back(CavpCase{section, {}, false});
        } else if (cases.empty()) {
            throw std::runtime_error("field before any case in " + path);
        }
        cases.back().fields[name] = value;
    }
    return cases;
}

bool throws_kind(const std::function<void()>& f, ErrorKind kind) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind() == kind;
    }
    return false;
}

std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

TEST(AesGcmNist, EncryptExtIV256) {
    std::vector<CavpCase> cases;
    ASSERT_NO_THROW(cases = read_rsp(vector_dir() + "/gcmEncryptExtIV256.rsp"));
    int exact = 0, truncated_tag = 0, other_iv = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE("IVlen " + c.section.at("IVlen") + " Taglen " + c.section.at("Taglen") + " Count " +
                     c.fields.at("Count"));
        ASSERT_EQ(c.section_int("Keylen"), 256);
        const auto key = from_hex(c.fields.at("Key"));
        const auto iv = from_hex(c.fields.at("IV"));
        const auto pt = from_hex(c.fields.at("PT"));
        const auto aad = from_hex(c.fields.at("AAD"));
        const auto ct = from_hex(c.fields.at("CT"));
        const auto tag = from_hex(c.fields.at("Tag"));
        if (c.section_int("IVlen") != 96) {
            ++other_iv;
            EXPECT_TRUE(throws_kind([&] { aes_gcm::seal(key, iv, aad, pt); }, ErrorKind::InvalidParameter));
            continue;
        }
        const auto sealed = aes_gcm::seal(key, iv, aad, pt);
        if (c.section_int("Taglen") == 128) {
            ++exact;
            EXPECT_EQ(to_hex(sealed), to_hex(concat(ct, tag)));
        } else {
            // We only emit full tags; a CAVP truncated tag must be a prefix of ours.
            ++truncated_tag;
            EXPECT_EQ(to_hex(sealed).substr(0, 2 * (ct.size() + tag.size())), to_hex(concat(ct, tag)));
        }
    }
    std::cout << "[ nist ] gcmEncryptExtIV256: " << exact << " exact (96/128), " << truncated_tag
              << " shorter-tag prefixes checked, " << other_iv << " other IV sizes refused\n";
    EXPECT_GT(exact, 0);
    EXPECT_GT(other_iv, 0);
}

TEST(AesGcmNist, Decrypt256) {
    std::vector<CavpCase> cases;
    ASSERT_NO_THROW(cases = read_rsp(vector_dir() + "/gcmDecrypt256.rsp"));
    int opened = 0, must_fail = 0, short_tag_refused = 0, other_iv = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE("IVlen " + c.section.at("IVlen") + " Taglen " + c.section.at("Taglen") + " Count " +
                     c.fields.at("Count"));
        ASSERT_EQ(c.section_int("Keylen"), 256);
        const auto key = from_hex(c.fields.at("Key"));
        const auto iv = from_hex(c.fields.at("IV"));
        const auto aad = from_hex(c.fields.at("AAD"));
        const auto sealed = concat(from_hex(c.fields.at("CT")), from_hex(c.fields.at("Tag")));
        if (c.section_int("IVlen") != 96) {
            ++other_iv;
            EXPECT_TRUE(throws_kind([&] { aes_gcm::open(key, iv, aad, sealed); }, ErrorKind::InvalidParameter));
            continue;
        }
        if (c.section_int("Taglen") != 128) {
            // A truncated tag is never accepted: the last 16 bytes are not a valid tag.
            ++short_tag_refused;
            EXPECT_TRUE(throws_kind([&] { aes_gcm::open(key, iv, aad, sealed); }, ErrorKind::DataCorrupted));
            continue;
        }
        if (c.fail) {
            ++must_fail;
            EXPECT_FALSE(c.fields.count("PT")) << "a FAIL case carries no plaintext";
            EXPECT_TRUE(throws_kind([&] { aes_gcm::open(key, iv, aad, sealed); }, ErrorKind::DataCorrupted));
        } else {
            ++opened;
            SecretBytes pt = aes_gcm::open(key, iv, aad, sealed);
            EXPECT_EQ(to_hex(pt), to_hex(from_hex(c.fields.at("PT"))));
        }
    }
    std::cout << "[ nist ] gcmDecrypt256 (96/128): " << opened << " opened, " << must_fail
              << " FAIL cases refused; " << short_tag_refused << " shorter-tag cases and " << other_iv
              << " other IV sizes refused\n";
    EXPECT_GT(opened, 0);
    EXPECT_GT(must_fail, 0);
    EXPECT_GT(other_iv, 0);
}
