#include "core/audit/canonical.hpp"

namespace vlx::core::audit {

namespace {
void put_be(std::string& out, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
}  // namespace

CanonicalRow::CanonicalRow(std::string_view table_tag) {
    buf_.reserve(256);
    reset(table_tag);
}

void CanonicalRow::reset(std::string_view table_tag) {
    buf_.clear();
    buf_.append("vlx-chain-v1", 12);
    buf_.push_back('\0');
    buf_.append(table_tag.data(), table_tag.size());
    buf_.push_back('\0');
}

CanonicalRow& CanonicalRow::null() {
    buf_.push_back('\x00');
    return *this;
}

CanonicalRow& CanonicalRow::integer(std::int64_t value) {
    buf_.push_back('\x01');
    put_be(buf_, static_cast<std::uint64_t>(value), 8);
    return *this;
}

CanonicalRow& CanonicalRow::bytes(ByteView value) {
    buf_.push_back('\x02');
    put_be(buf_, value.size(), 4);
    buf_.append(reinterpret_cast<const char*>(value.data()), value.size());
    return *this;
}

Sha256Digest CanonicalRow::digest() const { return sha256(ByteView(buf_)); }

Sha256Digest genesis() { return Sha256Digest{}; }

Sha256Digest chain_link(const Sha256Digest& previous, const Sha256Digest& row_hash) {
    Sha256Hasher h;
    h.update(previous).update(row_hash);
    return h.finish();
}

std::string to_hex(const Sha256Digest& digest) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (std::uint8_t b : digest) {
        out.push_back(hex[b >> 4]);
        out.push_back(hex[b & 15]);
    }
    return out;
}

}  // namespace vlx::core::audit
