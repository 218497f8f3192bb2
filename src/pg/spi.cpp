#include "pg/spi.hpp"

#include "core/error.hpp"

namespace vlx::pg::spi {

Connection::Connection() {
    call([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    });
    open_ = true;
}

void Connection::finish() {
    if (!open_) return;
    open_ = false;
    call([] { SPI_finish(); });
}

Statement::Statement(const char* sql, std::initializer_list<Oid> arg_types) : sql_(sql), arg_types_(arg_types) {}

SPIPlanPtr Statement::plan() {
    if (plan_) return plan_;
    plan_ = call([&] {
        // Generic plans: our statements are written for their indexes, and a custom plan per
        // call would re-plan on every login.
        SPIPlanPtr prepared = SPI_prepare_cursor(sql_, static_cast<int>(arg_types_.size()), arg_types_.data(),
                                                 CURSOR_OPT_GENERIC_PLAN);
        if (!prepared) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        if (SPI_keepplan(prepared) != 0) elog(ERROR, "SPI_keepplan failed");
        return prepared;
    });
    return plan_;
}

std::optional<Datum> Rows::get(std::uint64_t row, int col) const {
    if (row >= count_) throw core::Error(core::ErrorKind::Internal, "SPI row out of range");
    bool is_null = false;
    Datum value = call([&] { return SPI_getbinval(table_->vals[row], table_->tupdesc, col, &is_null); });
    if (is_null) return std::nullopt;
    return value;
}

Rows execute(Statement& statement, Args& args, int expected, long max_rows) {
    if (args.count() != statement.arg_count())
        throw core::Error(core::ErrorKind::Internal, "SPI argument count mismatch");
    SPIPlanPtr plan = statement.plan();
    return call([&] {
        const int rc = SPI_execute_plan(plan, args.values(), args.nulls(), false, max_rows);
        if (rc != expected) elog(ERROR, "SPI statement failed: %s", SPI_result_code_string(rc));
        return Rows(SPI_tuptable, SPI_processed);
    });
}

}  // namespace vlx::pg::spi
