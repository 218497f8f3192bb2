// check_login's read without the executor: the account's state row and its counted
// failures fetched straight from their indexes (login_state_pkey and
// failed_login_attempts_email_idx). check_login runs before every password check; a plan
// with a subquery costs several times the two index probes it performs, so the hot read
// goes through the access methods directly. The write paths keep using SPI.
#pragma once

#include "core/login/lockout_policy.hpp"
#include "pg/postgres.hpp"

namespace vlx::pg::login {

// The account's state (counted_failures filled, oldest first) as of a fresh snapshot.
core::login::AccountState read_account_state(const std::string& email, std::int64_t now,
                                             const core::login::Policy& policy);

}  // namespace vlx::pg::login
