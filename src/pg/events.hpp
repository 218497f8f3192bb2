// Writing a security event (SPEC §2): the security_events row, its notifications in the
// outbox for the roles its severity names (plus any extra roles), and NOTIFY
// security_alerts with a payload free of PHI. Runs inside an open SPI connection.
#pragma once

#include "pg/postgres.hpp"

namespace vlx::pg::events {

struct Event {
    const char* event_type;  // one of the security_events_event_type_check values
    const char* severity;    // critical | high | medium | low
    std::optional<Datum> user_id;     // uuid
    std::optional<std::string> email;
    std::optional<Datum> ip_address;  // inet
    std::optional<int> attempt_count;
    std::string details_json = "{}";  // a JSON object; never plaintext PHI or key material
    std::int64_t occurred_at = 0;     // TimestampTz
    std::vector<std::string> extra_roles;  // notified besides the severity's roles
};

// Returns the new event's id.
std::int64_t raise(const Event& event);

}  // namespace vlx::pg::events
