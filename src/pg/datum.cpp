#include "pg/datum.hpp"

#include "core/error.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "utils/array.h"
#include "utils/inet.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::datum {

std::optional<Datum> arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return PG_GETARG_DATUM(n);
}

std::string require_text(FunctionCallInfo fcinfo, int n, const char* name) {
    auto value = text_arg(fcinfo, n);
    if (!value) throw core::Error(core::ErrorKind::NullValue, std::string(name) + " must not be NULL");
    return *value;
}

Datum require_arg(FunctionCallInfo fcinfo, int n, const char* name) {
    if (PG_ARGISNULL(n)) throw core::Error(core::ErrorKind::NullValue, std::string(name) + " must not be NULL");
    return PG_GETARG_DATUM(n);
}

std::string require_nonblank(FunctionCallInfo fcinfo, int n, const char* name) {
    std::string value = require_text(fcinfo, n, name);
    if (value.find_first_not_of(" \t\r\n") == std::string::npos)
        throw core::Error(core::ErrorKind::InvalidParameter, std::string(name) + " must not be empty");
    return value;
}

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return to_string(PG_GETARG_DATUM(n));
}

std::string to_string(Datum text_datum) {
    return call([&] {
        text* t = DatumGetTextPP(text_datum);
        return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    });
}

Datum make_text(const std::string& value) {
    return call([&] { return PointerGetDatum(cstring_to_text_with_len(value.data(), static_cast<int>(value.size()))); });
}

Datum interval(std::int64_t micros) {
    return call([&] {
        Interval* span = static_cast<Interval*>(palloc0(sizeof(Interval)));
        span->time = micros;
        return IntervalPGetDatum(span);
    });
}

std::vector<std::int64_t> to_timestamps(Datum array) {
    std::vector<std::int64_t> out;
    call([&] {
        ArrayType* a = DatumGetArrayTypeP(array);
        Datum* elems = nullptr;
        bool* nulls = nullptr;
        int n = 0;
        deconstruct_array(a, TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls,
                          &n);
        out.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i)
            if (!nulls[i]) out.push_back(DatumGetTimestampTz(elems[i]));
    });
    return out;
}

Datum timestamps(const std::vector<std::int64_t>& values) {
    std::vector<Datum> elems;
    elems.reserve(values.size());
    for (auto v : values) elems.push_back(TimestampTzGetDatum(v));
    return call([&] {
        return PointerGetDatum(construct_array(elems.data(), static_cast<int>(elems.size()), TIMESTAMPTZOID,
                                               sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    });
}

std::vector<std::string> to_strings(Datum array) {
    std::vector<std::string> out;
    call([&] {
        ArrayType* a = DatumGetArrayTypeP(array);
        Datum* elems = nullptr;
        bool* nulls = nullptr;
        int n = 0;
        deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
        out.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            if (nulls[i]) continue;
            text* t = DatumGetTextPP(elems[i]);
            out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
        }
    });
    return out;
}

Datum strings(const std::vector<std::string>& values) {
    return call([&] {
        Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (values.size() + 1)));
        for (std::size_t i = 0; i < values.size(); ++i)
            elems[i] = PointerGetDatum(cstring_to_text_with_len(values[i].data(), static_cast<int>(values[i].size())));
        return PointerGetDatum(construct_array(elems, static_cast<int>(values.size()), TEXTOID, -1, false, TYPALIGN_INT));
    });
}

Datum composite(FunctionCallInfo fcinfo, const std::vector<std::optional<Datum>>& columns) {
    std::vector<Datum> values(columns.size(), Datum(0));
    std::unique_ptr<bool[]> nulls(new bool[columns.size() + 1]);
    for (std::size_t i = 0; i < columns.size(); ++i) {
        nulls[i] = !columns[i].has_value();
        if (columns[i]) values[i] = *columns[i];
    }
    return call([&] {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "function returning a composite called in a context that cannot accept one");
        if (desc->natts != static_cast<int>(columns.size())) elog(ERROR, "composite result has the wrong arity");
        desc = BlessTupleDesc(desc);
        return HeapTupleGetDatum(heap_form_tuple(desc, values.data(), nulls.get()));
    });
}

Datum jsonb(const std::string& json) {
    return call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
}

std::string inet_text(Datum inet) {
    return call([&] { return std::string(DatumGetCString(DirectFunctionCall1(inet_out, inet))); });
}

std::string json_quote(std::string_view value) {
    std::string out = "\"";
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (u < 0x20) {
                    char buf[8];
                    snprintf(buf, sizeof buf, "\\u%04x", u);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
    return out;
}

}  // namespace vlx::pg::datum
