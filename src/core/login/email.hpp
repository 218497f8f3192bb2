// The one spelling of an email address the login rules compare: trimmed, ASCII lower-case.
// Unknown addresses are normalised like known ones, since attackers guess.
#pragma once

#include <string>
#include <string_view>

namespace vlx::core::login {

constexpr std::size_t kMaxEmailLength = 254;  // RFC 5321 path limit

// Throws Error(InvalidParameter) for an empty (after trimming) or over-long address (more
// than 254 characters of UTF-8), or one with control characters. NULL is the caller's to
// refuse (22004) before calling this. Only ASCII letters are lower-cased here; the
// PostgreSQL layer folds any other letter with the database's lower(), the same function
// the tables' CHECK constraints and the directory's index use.
std::string normalize_email(std::string_view raw);

// Whether the address holds any non-ASCII byte (so the database must finish the folding).
bool has_non_ascii(std::string_view email);

}  // namespace vlx::core::login
