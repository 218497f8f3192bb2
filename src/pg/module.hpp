// Library-wide state of the PostgreSQL layer.
#pragma once

namespace vlx::pg {

// True when the library was loaded through shared_preload_libraries (hooks, background
// worker and shared memory are only available then).
bool loaded_by_preload();

}  // namespace vlx::pg
