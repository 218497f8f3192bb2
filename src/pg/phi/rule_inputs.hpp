// What the PHI rules read per statement, shared by the table path (phi_trigger.cpp) and
// the shared-memory path (shared_path.cpp): the new rows of the transition table (with
// their chain hashes), the rule settings, the accounts, local time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/phi/rules.hpp"
#include "core/text_rules.hpp"
#include "pg/keys/keyring.hpp"
#include "pg/phi/pgx.hpp"

namespace vlx::pg::phi {

// The trigger is not SECURITY DEFINER: its SET clauses would cost more than its hot
// path. Whatever needs SPI first calls ensure(), which switches to the function's owner
// with search_path pinned (keys::OwnerScope); the hot path never does. With
// `planner` also the planner settings of the table path's key-lookup statements.
class Privileges {
public:
    explicit Privileges(FunctionCallInfo fcinfo) : fcinfo_(fcinfo) {}
    void ensure();
    void planner_settings();
    void end() {
        if (scope_) scope_->end();
        scope_.reset();
    }

private:
    FunctionCallInfo fcinfo_;
    std::optional<keys::OwnerScope> scope_;
    bool planner_ = false;
};

struct Row {
    std::int64_t id = 0;
    std::int64_t t = 0;  // occurred_at
    std::optional<Uuid> user;
    std::optional<Uuid> patient;
    std::optional<Uuid> practice;
    std::optional<Datum> ip;  // copied into the trigger's memory context
    core::Sha256Digest row_hash{};
    TransactionId xid = InvalidTransactionId;
};

struct Account {
    bool known = false;
    std::string role;
    std::optional<Uuid> practice;
    std::optional<std::string> email;
    std::optional<std::string> timezone;  // the account's own zone
    // The own zone resolved once (it does not depend on any setting); null: none or invalid.
    mutable pg_tz* own_zone = nullptr;
    mutable bool own_zone_resolved = false;
};

struct Params {
    int threshold = 0;
    std::int64_t window = 0;
    std::vector<std::string> exempt_roles;
    std::optional<core::HoursWindow> hours;
    double sigma = 0;
    int min_days = 0;
};
// The current settings (a backend-wide value, refreshed by each call).
const Params& read_params();

// The statement's new rows (the superuser-restored ones excluded: pg_restore brings back
// rows the dumped chain already holds), each validated and hashed.
std::vector<Row> read_transition_rows(TriggerData* td, Privileges& priv);

// Sorts the rows in judging order (user, occurred_at, id: a back-filled batch is replayed
// in time order) and returns the distinct users, in that order.
std::vector<Uuid> order_by_user(std::vector<Row>& rows);

// The accounts of `users`, from a per-backend cache that any change to security.accounts
// invalidates (trigger security._protection_changed on the table), one per user, in order.
std::vector<std::shared_ptr<const Account>> accounts_of(const std::vector<Uuid>& users, Privileges& priv);
void register_account_cache();

// The zone a user's local time is judged in: the account's, else
// vitaluxe_security.timezone, else TimeZone; its name into *name unless null.
pg_tz* zone_of(const Account& account, std::string* name);
std::int64_t local_usec(std::int64_t t, pg_tz* tz);

// The details document of a new PHI event.
std::string details_for(core::phi::Rule rule, const Row& row, const Params& p, const Account& acct,
                        const std::string& tz_name, std::size_t patients_in_window, std::int64_t today,
                        const core::phi::BaselineStats* stats);

inline bool exempt(const Params& p, const Account& a) {
    return std::find(p.exempt_roles.begin(), p.exempt_roles.end(), a.role) != p.exempt_roles.end();
}

}  // namespace vlx::pg::phi
