// State shared by protect_column, its trigger and rotate_keys.
#pragma once

#include "pg/boundary.hpp"

namespace vlx::pg::keys {

// How the protect trigger treats the writes of the extension itself.
enum class TriggerMode {
    Normal,
    Initial,  // protect_column's first pass: an UPDATE is judged like an INSERT
    Trusted,  // rotate_keys writes ciphertext it made for (trusted_rel, trusted_att)
};

// Sets the mode for the lifetime of the object (restored however the scope is left).
class TriggerModeScope {
public:
    TriggerModeScope(TriggerMode mode, Oid rel = InvalidOid, int attnum = 0);
    ~TriggerModeScope();
    TriggerModeScope(const TriggerModeScope&) = delete;
    TriggerModeScope& operator=(const TriggerModeScope&) = delete;

private:
    TriggerMode saved_mode_;
    Oid saved_rel_;
    int saved_att_;
};

TriggerMode trigger_mode();
extern std::uint64_t g_initial_sealed;
bool trusted_write(Oid rel, int attnum);

// "<schema>.<table>.<column>#" with every name quoted as an identifier.
std::string context_prefix(Oid relid, const std::string& column);

}  // namespace vlx::pg::keys
