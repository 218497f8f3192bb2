// A core routine used only to prove the C/C++ boundary: it holds a secret buffer while it
// runs a step supplied by its caller (the PostgreSQL layer), so a PostgreSQL error raised
// inside that step has to unwind through core frames that own a resource.
#pragma once

#include <functional>
#include <string>

namespace vlx::core {

// Runs `step` while a SecretBytes buffer is alive; returns what `step` returned.
std::string run_holding_secret(const std::function<std::string()>& step);

// Throws the core error the boundary must turn into SQLSTATE 22023.
[[noreturn]] void fail_with_invalid_parameter();

}  // namespace vlx::core
