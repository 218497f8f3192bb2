// vitaluxe_security.* GUCs, registered from the core's settings catalog, and typed reads of
// their current values for the rest of the PostgreSQL layer.
#pragma once

#include "core/settings_catalog.hpp"

#include <cstdint>

namespace vlx::pg::settings {

// Defines every GUC and reserves the prefix. Called from _PG_init, with or without preload.
void define_all();

int integer(core::Setting id);
double real(core::Setting id);
bool boolean(core::Setting id);
const char* string(core::Setting id);  // never NULL

// An integer setting with a time unit, in microseconds (the unit of TimestampTz).
std::int64_t interval_us(core::Setting id);

// vitaluxe_security.clock_offset, parsed, in microseconds.
std::int64_t clock_offset_us();

// vitaluxe_security.key_max_encryptions, parsed.
std::int64_t key_max_encryptions();

}  // namespace vlx::pg::settings
