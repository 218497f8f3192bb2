// security.login_verdict: what check_login and record_failed_login answer.
#pragma once

#include "pg/postgres.hpp"

namespace vlx::pg::login {

struct Verdict {
    bool allowed = false;
    std::string reason;  // ok | account_locked | ip_blocked | emergency_lockdown
    std::optional<std::int64_t> locked_until;
    bool captcha_required = false;
    int failed_attempts = 0;
};

// The verdict as the function's composite result.
Datum verdict_datum(FunctionCallInfo fcinfo, const Verdict& verdict);

}  // namespace vlx::pg::login
