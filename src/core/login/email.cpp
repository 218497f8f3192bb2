#include "core/login/email.hpp"

#include "core/error.hpp"

namespace vlx::core::login {

std::string normalize_email(std::string_view raw) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (!raw.empty() && is_space(raw.front())) raw.remove_prefix(1);
    while (!raw.empty() && is_space(raw.back())) raw.remove_suffix(1);
    if (raw.empty()) invalid_parameter("email must not be empty");
    // Characters, not bytes: UTF-8 continuation bytes (10xxxxxx) do not start one.
    std::size_t characters = 0;
    for (char c : raw)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
    if (characters > kMaxEmailLength)
        invalid_parameter("email is longer than 254 characters", "An address is at most 254 characters (RFC 5321).");
    std::string out;
    out.reserve(raw.size());
    for (char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) invalid_parameter("email contains a control character");
        out.push_back(u >= 'A' && u <= 'Z' ? static_cast<char>(u - 'A' + 'a') : c);
    }
    return out;
}

bool has_non_ascii(std::string_view email) {
    for (char c : email)
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    return false;
}

}  // namespace vlx::core::login
