-- vitaluxe_security install script, part 25: the login path's working state.
--
-- failed_login_attempts and account_lockouts are the record; these tables are what the
-- native login functions read and lock on every attempt, so that a decision costs a few
-- primary-key lookups whatever the size of the record. They are written only by the
-- extension's functions.

-- ---------------------------------------------------------------------------------
-- login_state: per account (normalised email, known or not), the failures that still
-- count, the current lockout and the post-unlock watch. Its row lock serialises
-- concurrent attempts on one account: exactly one of them crosses the threshold.
CREATE TABLE security.login_state (
    email             text          PRIMARY KEY,
    counted_failures  timestamptz[] NOT NULL DEFAULT '{}',
    locked            boolean       NOT NULL DEFAULT false,
    locked_until      timestamptz,
    lockout_id        bigint        REFERENCES security.account_lockouts (id),
    recent_lockouts   timestamptz[] NOT NULL DEFAULT '{}',
    monitor_until     timestamptz,
    monitor_alerted   boolean       NOT NULL DEFAULT false,
    updated_at        timestamptz   NOT NULL DEFAULT security.now(),
    CONSTRAINT login_state_email_normalized
        CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 1 AND 254),
    CONSTRAINT login_state_until_needs_lock
        CHECK (locked OR locked_until IS NULL)
);
COMMENT ON TABLE security.login_state IS
    'Working state of the login rules per account (trimmed, lower-cased email): failures that still count toward a lockout (at most lockout_threshold, newest last), the current lockout (locked, locked_until NULL = until an admin unlocks), recent brute-force lockouts for progressive backoff, and the post-unlock watch. Written only by the extension''s login functions.';

-- ---------------------------------------------------------------------------------
-- ip_login_state: per source address, the distinct accounts it failed against within
-- the window (at most ip_account_threshold, newest last) and the current ip_multi_account
-- episode, so one spray raises one event.
CREATE TABLE security.ip_login_state (
    ip_address     inet          PRIMARY KEY,
    accounts       text[]        NOT NULL DEFAULT '{}',
    last_failure   timestamptz[] NOT NULL DEFAULT '{}',
    alerted_until  timestamptz,
    updated_at     timestamptz   NOT NULL DEFAULT security.now(),
    CONSTRAINT ip_login_state_parallel_arrays
        CHECK (cardinality(accounts) = cardinality(last_failure))
);
COMMENT ON TABLE security.ip_login_state IS
    'Working state of the one-IP-many-accounts rule per source address: distinct accounts failed within the window and the end of the current ip_multi_account episode.';

-- ---------------------------------------------------------------------------------
-- system_state: at most one row; no row means normal operation. Emergency lockdown
-- sets app_offline, which check_login honours for every non-admin.
CREATE TABLE security.system_state (
    singleton             boolean     PRIMARY KEY DEFAULT true,
    app_offline           boolean     NOT NULL DEFAULT false,
    lockdown_reason       text,
    lockdown_started_at   timestamptz,
    lockdown_started_by   text,
    lockdown_incident_id  bigint      REFERENCES security.incidents (id),
    updated_at            timestamptz NOT NULL DEFAULT security.now(),
    CONSTRAINT system_state_singleton CHECK (singleton)
);
COMMENT ON TABLE security.system_state IS
    'Platform-wide security state, at most one row (none = normal): app_offline is the emergency-lockdown flag that security.check_login honours for every non-admin.';
