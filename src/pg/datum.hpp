// Conversions between PostgreSQL Datums and C++ values, each through the boundary.
#pragma once

#include "pg/boundary.hpp"

namespace vlx::pg::datum {

// Function arguments. The *_or_null forms return nullopt for SQL NULL.
std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n);
std::optional<Datum> arg(FunctionCallInfo fcinfo, int n);
// Required arguments: SQL NULL is a 22004 error naming the parameter.
std::string require_text(FunctionCallInfo fcinfo, int n, const char* name);
Datum require_arg(FunctionCallInfo fcinfo, int n, const char* name);
// Required, and not blank after trimming (22023): notes and reasons admins must give.
std::string require_nonblank(FunctionCallInfo fcinfo, int n, const char* name);

// text
std::string to_string(Datum text_datum);
Datum make_text(const std::string& value);

// An interval of `micros` microseconds (no days or months: a fixed span).
Datum interval(std::int64_t micros);

// timestamptz[] <-> microseconds
std::vector<std::int64_t> to_timestamps(Datum array);
Datum timestamps(const std::vector<std::int64_t>& values);

// text[]
std::vector<std::string> to_strings(Datum array);
Datum strings(const std::vector<std::string>& values);

// The function's composite result from its column values in order (nullopt = NULL).
Datum composite(FunctionCallInfo fcinfo, const std::vector<std::optional<Datum>>& columns);

// jsonb from JSON text built by the caller.
Datum jsonb(const std::string& json);

// inet rendered as text (for messages and JSON; never PHI).
std::string inet_text(Datum inet);

// A JSON string literal for `value` (quotes and escapes).
std::string json_quote(std::string_view value);

}  // namespace vlx::pg::datum
