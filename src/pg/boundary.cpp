#include "pg/boundary.hpp"

#include "core/error.hpp"

namespace vlx::pg {
namespace {

int sqlstate_for(core::ErrorKind kind) {
    switch (kind) {
        case core::ErrorKind::NullValue: return ERRCODE_NULL_VALUE_NOT_ALLOWED;
        case core::ErrorKind::InvalidParameter: return ERRCODE_INVALID_PARAMETER_VALUE;
        case core::ErrorKind::BadTextRepresentation: return ERRCODE_INVALID_TEXT_REPRESENTATION;
        case core::ErrorKind::LoginRefused: return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
        case core::ErrorKind::InsufficientPrivilege: return ERRCODE_INSUFFICIENT_PRIVILEGE;
        case core::ErrorKind::DataCorrupted: return ERRCODE_DATA_EXCEPTION;
        case core::ErrorKind::ConfigurationMissing: return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
        case core::ErrorKind::Internal: return ERRCODE_INTERNAL_ERROR;
    }
    return ERRCODE_INTERNAL_ERROR;
}

// What a caught C++ exception said, copied into fixed buffers: nothing in a catch block
// may allocate through PostgreSQL or raise, and the exception object dies with the block.
struct Failure {
    ErrorData* pg_error = nullptr;
    int sqlstate = 0;
    bool internal = false;
    char message[512] = {};
    char detail[512] = {};
    char hint[256] = {};

    void capture(int code, const char* msg, const char* det = "", const char* hnt = "") noexcept {
        sqlstate = code;
        snprintf(message, sizeof message, "%s", msg ? msg : "");
        snprintf(detail, sizeof detail, "%s", det ? det : "");
        snprintf(hint, sizeof hint, "%s", hnt ? hnt : "");
    }
};

[[noreturn]] void raise(const Failure& f, const char* name) {
    if (f.pg_error) ReThrowError(f.pg_error);
    if (f.internal)
        ereport(ERROR, (errcode(f.sqlstate), errmsg("internal error in %s: %s", name, f.message),
                        errhint("This is a bug in vitaluxe_security; please report it.")));
    ereport(ERROR, (errcode(f.sqlstate), errmsg("%s", f.message), f.detail[0] ? errdetail("%s", f.detail) : 0,
                    f.hint[0] ? errhint("%s", f.hint) : 0));
    pg_unreachable();
}

}  // namespace

namespace detail {

void run_catching_pg_errors(void (*thunk)(void*), void* ctx) {
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData* volatile caught = nullptr;
    PG_TRY();
    {
        thunk(ctx);
    }
    PG_CATCH();
    {
        // Keep the whole error (outside ErrorContext) and clear PostgreSQL's error state;
        // the boundary re-raises it once the C++ frames above have unwound.
        MemoryContextSwitchTo(caller_context);
        caught = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (caught) throw PgError(caught);
}

}  // namespace detail

Datum guarded(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo), const char* name) {
    Failure failure;
    // A body that broke the rule above (ereport outside call()) would leave these pointing
    // at dead frames; restoring them keeps the next error from jumping into garbage.
    sigjmp_buf* saved_exception_stack = PG_exception_stack;
    ErrorContextCallback* saved_context_stack = error_context_stack;
    try {
        return body(fcinfo);
    } catch (const PgError& e) {
        failure.pg_error = e.edata();
    } catch (const core::Error& e) {
        failure.capture(sqlstate_for(e.kind()), e.what(), e.detail().c_str(), e.hint().c_str());
        failure.internal = e.kind() == core::ErrorKind::Internal;
    } catch (const std::bad_alloc&) {
        failure.capture(ERRCODE_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        failure.capture(ERRCODE_INTERNAL_ERROR, e.what());
        failure.internal = true;
    } catch (...) {
        failure.capture(ERRCODE_INTERNAL_ERROR, "unknown C++ exception");
        failure.internal = true;
    }
    PG_exception_stack = saved_exception_stack;
    error_context_stack = saved_context_stack;
    raise(failure, name);
}

}  // namespace vlx::pg
