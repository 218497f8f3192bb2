// security.now() and security.actor(): the extension's clock and who is acting.
#include "pg/boundary.hpp"

#include "core/settings_catalog.hpp"
#include "pg/settings.hpp"

using vlx::core::Setting;

// now() plus vitaluxe_security.clock_offset. The offset is bounded to 100 years by its
// check hook, so the sum stays far inside TimestampTz's range.
VLX_FUNCTION(vlx_now) {
    return TimestampTzGetDatum(GetCurrentTransactionStartTimestamp() + vlx::pg::settings::clock_offset_us());
}

// vitaluxe_security.actor when the application set it, else session_user.
VLX_FUNCTION(vlx_actor) {
    const char* actor = vlx::pg::settings::string(Setting::Actor);
    return vlx::pg::call([&] {
        if (actor[0] != '\0') return CStringGetTextDatum(actor);
        return CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
    });
}
