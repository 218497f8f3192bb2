#include "core/keys/key_policy.hpp"

#include <algorithm>

namespace vlx::core::keys {

bool master_key_file_mode_ok(unsigned mode) noexcept { return (mode & 077u) == 0; }

std::int64_t reservation_block(std::int64_t max_encryptions) noexcept {
    return std::clamp<std::int64_t>(max_encryptions / 64, 1, 1024);
}

bool must_rotate_before(std::int64_t used, std::int64_t block, std::int64_t max_encryptions) noexcept {
    if (used < 0 || block < 0) return true;
    return used > max_encryptions - block;
}

RotationAction rotation_action(std::uint32_t value_key, std::uint32_t new_key, RotationPhase phase,
                               bool value_key_compromised) noexcept {
    if (value_key == new_key) return RotationAction::Skip;
    if (phase == RotationPhase::Compromised && !value_key_compromised) return RotationAction::Skip;
    return RotationAction::Reencrypt;
}

std::string protected_context(std::string_view schema, std::string_view table, std::string_view column,
                              std::string_view row_key) {
    std::string out;
    out.reserve(schema.size() + table.size() + column.size() + row_key.size() + 3);
    out.append(schema).append(".").append(table).append(".").append(column).append("#").append(row_key);
    return out;
}

}  // namespace vlx::core::keys
