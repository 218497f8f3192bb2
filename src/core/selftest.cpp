#include "core/selftest.hpp"

#include "core/error.hpp"
#include "core/secret_bytes.hpp"

namespace vlx::core {

std::string run_holding_secret(const std::function<std::string()>& step) {
    SecretBytes secret(32);
    secret.data()[0] = 0x5a;  // something to wipe
    return step();
}

void fail_with_invalid_parameter() {
    throw Error(ErrorKind::InvalidParameter, "selftest: invalid parameter raised by the core",
                "This error was thrown as a C++ exception.");
}

}  // namespace vlx::core
