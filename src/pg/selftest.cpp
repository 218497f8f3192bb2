// security._boundary_selftest(kind): superuser-only proof that the C/C++ boundary holds.
// Each kind raises one kind of failure from one side of the boundary; the regression test
// sql/01_boundary.sql checks the SQLSTATE that arrives and that the session carries on.
#include "pg/boundary.hpp"

#include "core/error.hpp"
#include "core/secret_bytes.hpp"
#include "core/selftest.hpp"

namespace {

std::string text_arg(FunctionCallInfo fcinfo, int n) {
    return vlx::pg::call([&] { return std::string(text_to_cstring(PG_GETARG_TEXT_PP(n))); });
}

// A PostgreSQL error (division by zero, 22012) raised by SPI beneath a core frame that
// holds a SecretBytes buffer.
std::string spi_division_by_zero() {
    vlx::pg::call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
        SPI_execute("SELECT 1 / 0", true, 1);
    });
    return "unreachable";
}

}  // namespace

VLX_FUNCTION(vlx_boundary_selftest) {
    const std::string kind = text_arg(fcinfo, 0);
    std::string result;
    if (kind == "ok") {
        result = "ok";
    } else if (kind == "core_error") {
        vlx::core::fail_with_invalid_parameter();
    } else if (kind == "std_exception") {
        throw std::runtime_error("selftest: an unexpected std::exception");
    } else if (kind == "bad_alloc") {
        throw std::bad_alloc();
    } else if (kind == "pg_error_beneath_core") {
        result = vlx::core::run_holding_secret(spi_division_by_zero);
    } else if (kind == "secrets_wiped") {
        result = std::to_string(vlx::core::SecretBytes::wiped_count());
    } else {
        throw vlx::core::Error(vlx::core::ErrorKind::InvalidParameter, "unknown selftest kind \"" + kind + "\"",
                               {}, "Use ok, core_error, std_exception, bad_alloc, pg_error_beneath_core or secrets_wiped.");
    }
    return vlx::pg::call([&] { return CStringGetTextDatum(result.c_str()); });
}
