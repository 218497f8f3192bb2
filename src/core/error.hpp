// Errors raised by the core. The core knows nothing of PostgreSQL: it names the kind of
// failure, and the PostgreSQL layer (src/pg/boundary.cpp) maps each kind to its SQLSTATE.
#pragma once

#include <stdexcept>
#include <string>

namespace vlx::core {

enum class ErrorKind {
    NullValue,              // 22004
    InvalidParameter,       // 22023
    BadTextRepresentation,  // 22P02
    LoginRefused,           // 28000
    InsufficientPrivilege,  // 42501
    DataCorrupted,          // 22000 data_exception: tampered/foreign ciphertext, broken chain
    ConfigurationMissing,   // 55000 object_not_in_prerequisite_state
    Internal,               // XX000: a bug, never expected
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message, std::string detail = {}, std::string hint = {})
        : std::runtime_error(message), kind_(kind), detail_(std::move(detail)), hint_(std::move(hint)) {}

    ErrorKind kind() const noexcept { return kind_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }

private:
    ErrorKind kind_;
    std::string detail_;
    std::string hint_;
};

[[noreturn]] inline void invalid_parameter(const std::string& message, std::string hint = {}) {
    throw Error(ErrorKind::InvalidParameter, message, {}, std::move(hint));
}

}  // namespace vlx::core
