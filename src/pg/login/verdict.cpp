#include "pg/login/verdict.hpp"

#include "pg/boundary.hpp"

namespace vlx::pg::login {

Datum verdict_datum(FunctionCallInfo fcinfo, const Verdict& v) {
    return call([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "login functions must return security.login_verdict");
        desc = BlessTupleDesc(desc);
        Datum values[5];
        bool nulls[5] = {false, false, false, false, false};
        values[0] = BoolGetDatum(v.allowed);
        values[1] = CStringGetTextDatum(v.reason.c_str());
        if (v.locked_until)
            values[2] = TimestampTzGetDatum(*v.locked_until);
        else
            nulls[2] = true;
        values[3] = BoolGetDatum(v.captcha_required);
        values[4] = Int32GetDatum(v.failed_attempts);
        return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
    });
}

}  // namespace vlx::pg::login
