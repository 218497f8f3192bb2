-- vitaluxe_security install script, part 25: the login path's working state.
--
-- failed_login_attempts and account_lockouts are the record; these tables are what the
-- native login functions read and lock on every attempt, so that a decision costs a few
-- primary-key lookups whatever the size of the record. They are written only by the
-- extension's functions.

-- ---------------------------------------------------------------------------------
-- login_state: per account (normalised email, known or not), the current lockout, the
-- point from which failures count (set by a lockout, a successful login and an admin
-- unlock), recent brute-force lockouts for progressive backoff, and the post-unlock watch.
-- The failures themselves are read from failed_login_attempts (index on email,
-- attempted_at), bounded by that point and the window, so this row is written only when
-- one of those facts changes, never for an ordinary failure.
CREATE TABLE security.login_state (
    email             text          PRIMARY KEY,
    locked            boolean       NOT NULL DEFAULT false,
    locked_until      timestamptz,
    lockout_id        bigint        REFERENCES security.account_lockouts (id),
    counting_since    timestamptz,
    reset_after_id    bigint        NOT NULL DEFAULT 0,
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
    'Working state of the login rules per account (trimmed, lower-cased email): the current lockout (locked, locked_until NULL = until an admin unlocks), the point from which failures count (counting_since, and reset_after_id for attempts stamped in the same instant), recent brute-force lockouts for progressive backoff, and the post-unlock watch. Written only by the extension''s login functions.';

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
