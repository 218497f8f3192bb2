// The C/C++ boundary, both directions, in one place.
//
//  * PostgreSQL -> C++: every SQL-callable function is written with VLX_FUNCTION. Its body
//    runs inside vlx::pg::guarded(), which catches every C++ exception and turns it into
//    an ereport(ERROR) with the right SQLSTATE, after all C++ frames have unwound.
//
//  * C++ -> PostgreSQL: every PostgreSQL call that can ereport is made through
//    vlx::pg::call(). An ERROR raised inside it is caught where it happens (PG_TRY), kept
//    whole (ErrorData: SQLSTATE, message, detail, context) and thrown as a C++ PgError, so
//    C++ destructors run; guarded() then re-raises the very same error with ReThrowError.
//
// Rule for the rest of the layer: outside vlx::pg::call() a C++ frame that owns a resource
// never calls a PostgreSQL function that can raise an error.
#pragma once

#include "pg/postgres.hpp"

namespace vlx::pg {

// A PostgreSQL error in flight through C++ frames. Deliberately not a std::exception:
// nothing but the boundary may catch it, because swallowing it would leave PostgreSQL's
// error state half handled.
class PgError {
public:
    explicit PgError(ErrorData* edata) noexcept : edata_(edata) {}
    ErrorData* edata() const noexcept { return edata_; }

private:
    ErrorData* edata_;
};

namespace detail {
// Runs thunk(ctx); a PostgreSQL ERROR inside becomes a thrown PgError. thunk must not throw.
void run_catching_pg_errors(void (*thunk)(void*), void* ctx);
}  // namespace detail

// Calls fn() (PostgreSQL code that may ereport) and returns its result; an ERROR comes back
// as a PgError exception, a C++ exception thrown by fn passes through unchanged.
template <typename Fn>
decltype(auto) call(Fn&& fn) {
    using Result = std::invoke_result_t<Fn&>;
    if constexpr (std::is_void_v<Result>) {
        struct Ctx {
            Fn* fn;
            std::exception_ptr cpp_error;
        } ctx{&fn, nullptr};
        detail::run_catching_pg_errors(
            [](void* p) {
                auto* c = static_cast<Ctx*>(p);
                // A C++ exception must not cross PG_TRY's frame: hold it, rethrow after.
                try {
                    (*c->fn)();
                } catch (...) {
                    c->cpp_error = std::current_exception();
                }
            },
            &ctx);
        if (ctx.cpp_error) std::rethrow_exception(ctx.cpp_error);
    } else {
        std::optional<Result> out;
        call([&] { out.emplace(fn()); });
        return Result(std::move(*out));
    }
}

// Runs a SQL-callable function body with the boundary around it. Never returns by an
// exception: a failure leaves as ereport(ERROR) / ReThrowError.
Datum guarded(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo), const char* name);

}  // namespace vlx::pg

// Declares a V1 SQL-callable function `name` whose body is the block that follows.
#define VLX_FUNCTION(name)                                                                     \
    static Datum name##_body(FunctionCallInfo fcinfo);                                          \
    extern "C" {                                                                               \
    PG_FUNCTION_INFO_V1(name);                                                                 \
    Datum name(PG_FUNCTION_ARGS) { return ::vlx::pg::guarded(fcinfo, name##_body, #name); }   \
    }                                                                                          \
    static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo)
