-- vitaluxe_security install script, part 60: the login path and its admin actions
-- (SPEC sections 1 and 2). Thin declarations of native functions; the rules live in
-- src/core/login, their binding in src/pg/login.
--
-- None is STRICT: a NULL argument is a clear 22004 error, not a silent NULL verdict.
-- All run as the extension owner (SECURITY DEFINER) with a pinned search_path, and the
-- native code schema-qualifies every name it uses.

CREATE TYPE security.login_verdict AS (
    allowed          boolean,
    reason           text,
    locked_until     timestamptz,
    captcha_required boolean,
    failed_attempts  integer
);
COMMENT ON TYPE security.login_verdict IS
    'Answer of check_login and record_failed_login: allowed, reason (ok, account_locked, ip_blocked, emergency_lockdown), locked_until, captcha_required, failed_attempts (counted failures within lockout_window).';

-- ---- called by the application on every sign-in -----------------------------------

CREATE FUNCTION security.check_login(email text, ip inet)
    RETURNS security.login_verdict
    AS 'MODULE_PATHNAME', 'vlx_check_login'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.check_login(text, inet) IS
    'Before the password is checked: denies a locked account, a blocked network and, during an emergency lockdown, every non-admin; says whether a CAPTCHA is required.';

CREATE FUNCTION security.record_failed_login(email text, ip inet, user_agent text DEFAULT NULL)
    RETURNS security.login_verdict
    AS 'MODULE_PATHNAME', 'vlx_record_failed_login'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.record_failed_login(text, inet, text) IS
    'Records a failed login and applies the lockout rules: lockout_threshold failures within lockout_window lock the account (brute_force), one IP against ip_account_threshold accounts raises ip_multi_account, a failure after an admin unlock raises post_unlock_failure.';

CREATE FUNCTION security.record_successful_login(email text, ip inet, user_agent text DEFAULT NULL)
    RETURNS uuid
    AS 'MODULE_PATHNAME', 'vlx_record_successful_login'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.record_successful_login(text, inet, text) IS
    'Records a successful login: resets the failure count and starts a session (returns its id). Refused with 28000 while the account is locked, the network blocked or (non-admins) an emergency lockdown is on.';

-- ---- admin actions ------------------------------------------------------------------

CREATE FUNCTION security.unlock_account(email text, notes text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'vlx_unlock_account'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.unlock_account(text, text) IS
    'Ends the account''s active lockouts (notes required), starts the failure count afresh, watches the account for unlock_monitor_duration, recommends MFA and queues a password_reset_requested notification. Returns the number of lockouts ended.';

CREATE FUNCTION security.lock_account(email text, reason text, notes text, until timestamptz DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_lock_account'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.lock_account(text, text, text, timestamptz) IS
    'Locks an account (until NULL = until unlocked) for a reason of account_lockouts, superseding an active lockout, and ends its sessions. Returns the lockout id.';

CREATE FUNCTION security.block_ip(network cidr, reason text, until timestamptz DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_block_ip'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.block_ip(cidr, text, timestamptz) IS
    'Blocks a network (an address is a /32 or /128) until the given time or until unblocked. Returns the block id.';

CREATE FUNCTION security.unblock_ip(network cidr, notes text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'vlx_unblock_ip'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.unblock_ip(cidr, text) IS
    'Ends the active blocks of exactly this network (notes required). Returns how many were ended.';

-- ---- events and the notification outbox ---------------------------------------------

CREATE FUNCTION security.resolve_event(id bigint, disposition text, notes text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'vlx_resolve_event'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.resolve_event(bigint, text, text) IS
    'Resolves a security event with a disposition (legitimate, unauthorized, false_positive, resolved) and notes.';

CREATE FUNCTION security.claim_notifications("limit" integer)
    RETURNS SETOF security.notifications
    AS 'MODULE_PATHNAME', 'vlx_claim_notifications'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.claim_notifications(integer) IS
    'For the mailer: claims up to limit unsent notifications, oldest first (FOR UPDATE SKIP LOCKED, so concurrent mailers never get the same row; a claim older than 5 minutes is handed out again).';

CREATE FUNCTION security.mark_notification_sent(id bigint)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlx_mark_notification_sent'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.mark_notification_sent(bigint) IS
    'For the mailer: marks a notification sent; false when it was already sent.';

-- ---- the login path's cache of blocked networks and the lockdown flag ------------------
-- Each backend keeps the active blocks and the app-offline flag in memory; any change to
-- these tables (committed) tells every backend to reload them.
CREATE FUNCTION security._protection_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'vlx_protection_changed'
    LANGUAGE C;
COMMENT ON FUNCTION security._protection_changed() IS
    'Trigger: invalidates the per-backend cache of blocked networks and the lockdown flag.';
CREATE TRIGGER blocked_ips_protection_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON security.blocked_ips
    FOR EACH STATEMENT EXECUTE FUNCTION security._protection_changed();
CREATE TRIGGER system_state_protection_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON security.system_state
    FOR EACH STATEMENT EXECUTE FUNCTION security._protection_changed();

-- The PHI path caches accounts per backend: any change to security.accounts invalidates it.
CREATE TRIGGER accounts_phi_cache_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON security.accounts
    FOR EACH STATEMENT EXECUTE FUNCTION security._protection_changed();
