// SPI, the C++ way: statements prepared once per backend and kept, executed through the
// boundary (a PostgreSQL error comes back as PgError), rows read into C++ values before
// the connection is finished.
#pragma once

#include "pg/boundary.hpp"

namespace vlx::pg::spi {

// An SPI connection for the length of one SQL-callable function. finish() ends it on the
// normal path; when an error unwinds, PostgreSQL's (sub)transaction abort ends it, so the
// destructor deliberately does nothing.
class Connection {
public:
    Connection();
    void finish();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

private:
    bool open_ = false;
};

// A statement prepared on first use in this backend and kept for its lifetime (the plan
// cache revalidates it after DDL), always with a generic plan. Declare one per statement as a function-local static.
class Statement {
public:
    Statement(const char* sql, std::initializer_list<Oid> arg_types);
    SPIPlanPtr plan();
    int arg_count() const { return static_cast<int>(arg_types_.size()); }

private:
    const char* sql_;
    std::vector<Oid> arg_types_;
    SPIPlanPtr plan_ = nullptr;
};

// Arguments of one execution. A std::nullopt value is SQL NULL.
class Args {
public:
    explicit Args(int count) : values_(count, Datum(0)), nulls_(count, 'n') {}
    Args& set(int index, Datum value) {
        values_.at(index) = value;
        nulls_.at(index) = ' ';
        return *this;
    }
    Args& set_null(int index) {
        nulls_.at(index) = 'n';
        return *this;
    }
    Datum* values() { return values_.data(); }
    const char* nulls() const { return nulls_.data(); }
    int count() const { return static_cast<int>(values_.size()); }

private:
    std::vector<Datum> values_;
    std::vector<char> nulls_;
};

// The rows of the last execution (valid until the next execution or finish()).
class Rows {
public:
    Rows(SPITupleTable* table, std::uint64_t count) : table_(table), count_(count) {}
    std::uint64_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    // Column `col` (1-based) of row `row`; nullopt for NULL.
    std::optional<Datum> get(std::uint64_t row, int col) const;

private:
    SPITupleTable* table_;
    std::uint64_t count_;
};

// Executes a kept statement; `expected` is the SPI_OK_* code a success returns.
Rows execute(Statement& statement, Args& args, int expected, long max_rows = 0);

}  // namespace vlx::pg::spi
