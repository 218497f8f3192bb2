// The three functions the application calls on every sign-in (SPEC §1):
// security.check_login, security.record_failed_login, security.record_successful_login.
#include "pg/boundary.hpp"

#include "core/error.hpp"
#include "core/login/email.hpp"
#include "core/login/lockout_policy.hpp"
#include "pg/datum.hpp"
#include "pg/events.hpp"
#include "pg/login/direct_read.hpp"
#include "pg/login/login_store.hpp"
#include "pg/login/protection_cache.hpp"
#include "pg/login/verdict.hpp"
#include "pg/spi.hpp"

namespace login = vlx::pg::login;
namespace spi = vlx::pg::spi;
namespace datum = vlx::pg::datum;
using vlx::core::Error;
using vlx::core::ErrorKind;

namespace {

// The arguments every login function takes (email, ip[, user_agent]) and the moment and
// policy it judges them by.
struct Attempt {
    std::string email;
    Datum ip;
    std::optional<std::string> user_agent;
    std::int64_t now;
    vlx::core::login::Policy policy;
};

Attempt attempt_args(FunctionCallInfo fcinfo, bool with_user_agent) {
    Attempt a{login::email_argument(fcinfo, 0), datum::require_arg(fcinfo, 1, "ip"), std::nullopt,
              login::clock_now(), login::current_policy()};
    if (with_user_agent) a.user_agent = datum::text_arg(fcinfo, 2);
    return a;
}

// The verdict for the next attempt, given the account state after this call.
login::Verdict verdict_for(const login::Context& ctx, const vlx::core::login::AccountState& account,
                           std::int64_t now, const vlx::core::login::Policy& policy) {
    login::Verdict v;
    v.failed_attempts = vlx::core::login::counted_in_window(account, now, policy);
    v.captcha_required = v.failed_attempts >= policy.captcha_after;
    if (ctx.app_offline && !ctx.is_admin) {
        v.reason = "emergency_lockdown";
    } else if (ctx.ip_blocked) {
        v.reason = "ip_blocked";
    } else if (account.locked_at(now)) {
        v.reason = "account_locked";
        v.locked_until = account.locked_until;
    } else {
        v.allowed = true;
        v.reason = "ok";
    }
    return v;
}

std::string details_json(std::initializer_list<std::pair<const char*, std::string>> fields) {
    std::string json = "{";
    for (const auto& [key, raw_json] : fields) {
        if (json.size() > 1) json += ",";
        json += datum::json_quote(key) + ":" + raw_json;
    }
    return json + "}";
}

}  // namespace

// security.check_login(email text, ip inet) -> security.login_verdict
VLX_FUNCTION(vlx_check_login) {
    const auto [email, ip, user_agent, now, policy] = attempt_args(fcinfo, false);

    // A read: no lock, no executor: two index probes (login/direct_read.cpp); blocks and
    // lockdown come from the backend's cache, the directory only during a lockdown.
    const auto account = login::read_account_state(email, now, policy);
    login::Context context;
    context.ip_blocked = login::ip_blocked(ip, now);
    context.app_offline = login::app_offline();
    if (context.app_offline) context.is_admin = login::is_admin(email);
    return login::verdict_datum(fcinfo, verdict_for(context, account, now, policy));
}

// security.record_failed_login(email text, ip inet, user_agent text) -> security.login_verdict
VLX_FUNCTION(vlx_record_failed_login) {
    const auto [email, ip, user_agent, now, policy] = attempt_args(fcinfo, true);

    spi::Connection connection;
    // Serialises the attempts on this account: each sees those committed before it, so
    // exactly one of any number of concurrent failures crosses the threshold.
    login::lock_account_key(email);
    const login::Observation seen = login::observe(email, ip, now, policy, login::Read::Failure);
    const login::Context& ctx = seen.context;
    const auto outcome = vlx::core::login::on_failure(seen.account, now, policy);
    const std::int64_t attempt_id = login::insert_attempt(email, ip, user_agent, now, outcome.during_lockout);

    // The account's row is written only when a fact changes: a lockout, or the first
    // failure after an admin unlock. Everything below is rare: once per lockout or episode.
    if (outcome.lock_now) {
        const std::int64_t lockout_id =
            login::insert_brute_force_lockout(email, ctx, ip, outcome.lock_until, outcome.lock_attempt_count, now);
        login::save_account(email, outcome.next, attempt_id, lockout_id, now);
        vlx::pg::events::Event e{"brute_force", "critical"};
        e.user_id = ctx.user_id;
        e.email = email;
        e.ip_address = ip;
        e.attempt_count = outcome.lock_attempt_count;
        e.occurred_at = now;
        e.details_json = details_json({{"lockout_id", std::to_string(lockout_id)},
                                       {"threshold", std::to_string(policy.threshold)},
                                       {"window_seconds", std::to_string(policy.window / 1000000)},
                                       {"locked_seconds", std::to_string((outcome.lock_until - now) / 1000000)}});
        vlx::pg::events::raise(e);
    } else if (outcome.post_unlock_alert) {
        login::save_account(email, outcome.next, std::nullopt, std::nullopt, now);
    }
    if (outcome.post_unlock_alert) {
        vlx::pg::events::Event e{"post_unlock_failure", "high"};
        e.user_id = ctx.user_id;
        e.email = email;
        e.ip_address = ip;
        e.attempt_count = outcome.failed_attempts;
        e.occurred_at = now;
        vlx::pg::events::raise(e);
    }

    // One address against several accounts: distinct accounts among its latest failures
    // in the window, this one included.
    const int distinct = vlx::core::login::distinct_accounts(seen.recent_ip_emails, email);
    if (distinct >= policy.ip_account_threshold && !login::ip_episode_open(ip, now, policy)) {
        // Re-check under the address's lock: one event per address per window.
        login::lock_address_key(ip);
        if (!login::ip_episode_open(ip, now, policy)) {
            vlx::pg::events::Event e{"ip_multi_account", "critical"};
            e.ip_address = ip;
            e.attempt_count = distinct;
            e.occurred_at = now;
            e.details_json = details_json({{"accounts_targeted", std::to_string(distinct)},
                                           {"window_seconds", std::to_string(policy.window / 1000000)},
                                           {"recommended_action", "\"block_ip\""}});
            vlx::pg::events::raise(e);
        }
    }
    connection.finish();
    login::Verdict verdict = verdict_for(ctx, outcome.next, now, policy);
    // Counting restarts with a lockout; the attempt that locked reports the count that did.
    if (outcome.lock_now) {
        verdict.failed_attempts = outcome.lock_attempt_count;
        verdict.captcha_required = outcome.lock_attempt_count >= policy.captcha_after;
    }
    return login::verdict_datum(fcinfo, verdict);
}

// security.record_successful_login(email text, ip inet, user_agent text) -> uuid (session id)
VLX_FUNCTION(vlx_record_successful_login) {
    const auto [email, ip, user_agent, now, policy] = attempt_args(fcinfo, true);

    spi::Connection connection;
    login::lock_account_key(email);
    const login::Observation seen = login::observe(email, ip, now, policy, login::Read::Account);
    const login::Verdict verdict = verdict_for(seen.context, seen.account, now, policy);
    if (!verdict.allowed)
        throw Error(ErrorKind::LoginRefused, "login refused: " + verdict.reason,
                    verdict.reason == "account_locked" ? "The account is locked; an admin can unlock it." : "");
    // A successful login resets the count: failures before it no longer count.
    if (!seen.account.counted_failures.empty())
        login::save_account(email, vlx::core::login::on_success(seen.account), login::last_attempt_id(email),
                            std::nullopt, now);
    const Datum session_id = login::start_session(email, seen.context, ip, user_agent, now);
    connection.finish();
    return session_id;
}
