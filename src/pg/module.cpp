// Library entry: the module magic block and _PG_init.
#include "pg/postgres.hpp"

#include "pg/login/protection_cache.hpp"
#include "pg/module.hpp"
#include "pg/phi/rule_inputs.hpp"
#include "pg/phi/shared_state.hpp"
#include "pg/settings.hpp"

namespace {
// Set once in the process that loads the library; forked backends inherit it.
bool g_loaded_by_preload = false;
}  // namespace

bool vlx::pg::loaded_by_preload() { return g_loaded_by_preload; }

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);

void _PG_init(void) {
    g_loaded_by_preload = process_shared_preload_libraries_in_progress;
    vlx::pg::settings::define_all();
    vlx::pg::login::register_protection_cache();
    vlx::pg::phi::register_account_cache();
    if (process_shared_preload_libraries_in_progress) vlx::pg::phi::shared::install_hooks();
}
}
