// Facts about the running library for security.system_health.
#include "pg/boundary.hpp"

#include "pg/module.hpp"

VLX_FUNCTION(vlx_preload_active) { return BoolGetDatum(vlx::pg::loaded_by_preload()); }
