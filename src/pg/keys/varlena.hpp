// varlena <-> bytes for the key functions, each through the boundary.
#pragma once

#include "core/crypto/byte_view.hpp"
#include "pg/boundary.hpp"

namespace vlx::pg::keys {

// The bytes of a text or bytea datum (detoasted; valid for the current memory context).
core::ByteView varlena_view(Datum value);

// A new bytea / text datum holding bytes.
Datum bytea_datum(core::ByteView bytes);
Datum text_datum(core::ByteView bytes);
// A text datum after checking the bytes are valid in the database encoding (22021).
Datum text_datum_checked(core::ByteView bytes);

}  // namespace vlx::pg::keys
