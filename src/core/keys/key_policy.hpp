// Decisions of the key lifecycle that need no database: the master key file check, how
// many encryptions a backend reserves at once, when a key must rotate, what rotation does
// with one stored value, and the associated-data context of a protected value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vlx::core::keys {

// True when a master key file with this st_mode may be used: no permission bit for the
// group or for others (mode & 077 == 0).
bool master_key_file_mode_ok(unsigned mode) noexcept;

// How many encryptions a backend reserves in one update of encryption_keys.encryptions:
// limit / 64, at least 1 and at most 1024, so that the unflushed reservations of all
// backends together stay a small fraction of the limit.
std::int64_t reservation_block(std::int64_t max_encryptions) noexcept;

// True when reserving `block` more encryptions on a key that has `used` would pass the
// limit: the key must be rotated (a new active key) before it encrypts again.
bool must_rotate_before(std::int64_t used, std::int64_t block, std::int64_t max_encryptions) noexcept;

// Phases of one rotation: values on compromised keys move first, then all the others.
enum class RotationPhase { Compromised = 1, All = 2 };

enum class RotationAction { Skip, Reencrypt };

// What rotation does with a value sealed under value_key: nothing when it is already on
// the rotation's new key (so a resumed rotation never encrypts twice), nothing in the
// compromised phase unless its key is compromised, else re-encrypt.
RotationAction rotation_action(std::uint32_t value_key, std::uint32_t new_key, RotationPhase phase,
                               bool value_key_compromised) noexcept;

// The associated data of a protected column value: "<schema>.<table>.<column>#<row key>",
// the names already quoted as SQL identifiers (so the form is unambiguous).
std::string protected_context(std::string_view schema, std::string_view table, std::string_view column,
                              std::string_view row_key);

}  // namespace vlx::core::keys
