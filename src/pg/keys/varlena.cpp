#include "pg/keys/varlena.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
extern "C" {
#include "mb/pg_wchar.h"
}
#pragma GCC diagnostic pop

namespace vlx::pg::keys {

core::ByteView varlena_view(Datum value) {
    return call([&] {
        struct varlena* v = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value)));
        return core::ByteView(reinterpret_cast<const std::uint8_t*>(VARDATA_ANY(v)), VARSIZE_ANY_EXHDR(v));
    });
}

Datum bytea_datum(core::ByteView bytes) {
    return call([&] {
        bytea* b = static_cast<bytea*>(palloc(VARHDRSZ + bytes.size()));
        SET_VARSIZE(b, VARHDRSZ + bytes.size());
        if (!bytes.empty()) std::memcpy(VARDATA(b), bytes.data(), bytes.size());
        return PointerGetDatum(b);
    });
}

Datum text_datum(core::ByteView bytes) { return bytea_datum(bytes); }

Datum text_datum_checked(core::ByteView bytes) {
    call([&] {
        pg_verifymbstr(reinterpret_cast<const char*>(bytes.data()), static_cast<int>(bytes.size()), false);
    });
    return bytea_datum(bytes);
}

}  // namespace vlx::pg::keys
