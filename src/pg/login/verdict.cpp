#include "pg/login/verdict.hpp"

#include "pg/datum.hpp"

namespace vlx::pg::login {

Datum verdict_datum(FunctionCallInfo fcinfo, const Verdict& v) {
    std::optional<Datum> locked_until;
    if (v.locked_until) locked_until = TimestampTzGetDatum(*v.locked_until);
    return datum::composite(fcinfo, {BoolGetDatum(v.allowed), datum::make_text(v.reason), locked_until,
                                     BoolGetDatum(v.captcha_required), Int32GetDatum(v.failed_attempts)});
}

}  // namespace vlx::pg::login
