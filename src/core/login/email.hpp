// The one spelling of an email address the login rules compare: trimmed, ASCII lower-case.
// Unknown addresses are normalised like known ones, since attackers guess.
#pragma once

#include <string>
#include <string_view>

namespace vlx::core::login {

constexpr std::size_t kMaxEmailLength = 254;  // RFC 5321 path limit

// Throws Error(InvalidParameter) for an empty (after trimming) or over-long address, or one
// with control characters. NULL is the caller's to refuse (22004) before calling this.
std::string normalize_email(std::string_view raw);

}  // namespace vlx::core::login
