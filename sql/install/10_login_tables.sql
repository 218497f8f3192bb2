-- vitaluxe_security install script, part 10: failed logins, lockouts, accounts,
-- blocked IPs (SPEC section 1).
--
-- Every stamp defaults to security.now() (the extension's clock, which tests move with
-- vitaluxe_security.clock_offset) and every *_by column to security.actor().

-- ---------------------------------------------------------------------------------
-- failed_login_attempts: one row per failed login, from the app or from the
-- ClientAuthentication hook.  Emails are stored normalized (lower(btrim(...))) so
-- the per-account rules compare them with a plain index lookup.
CREATE TABLE security.failed_login_attempts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           text        NOT NULL,
    ip_address      inet,
    user_agent      text,
    attempted_at    timestamptz NOT NULL DEFAULT security.now(),
    source          text        NOT NULL DEFAULT 'app',
    during_lockout  boolean     NOT NULL DEFAULT false,
    CONSTRAINT failed_login_attempts_email_length
        CHECK (length(email) BETWEEN 1 AND 254),
    CONSTRAINT failed_login_attempts_email_normalized
        CHECK (email = lower(btrim(email))),
    CONSTRAINT failed_login_attempts_source_check
        CHECK (source IN ('app', 'database'))
);
CREATE INDEX failed_login_attempts_email_idx
    ON security.failed_login_attempts (email, attempted_at DESC);
CREATE INDEX failed_login_attempts_ip_idx
    ON security.failed_login_attempts (ip_address, attempted_at DESC);
CREATE INDEX failed_login_attempts_attempted_at_idx
    ON security.failed_login_attempts (attempted_at);

COMMENT ON TABLE security.failed_login_attempts IS
    'Every failed login (source app: reported by security.record_failed_login; source database: a refused database-role login seen by the preloaded authentication hook). Emails are stored trimmed and lower-cased; during_lockout marks attempts made while the account was locked, which never count toward a lockout.';
COMMENT ON COLUMN security.failed_login_attempts.during_lockout IS
    'true when the account was already locked: recorded, but neither extends the lockout nor counts toward the next one';

-- ---------------------------------------------------------------------------------
-- account_lockouts: one row per lockout.  A lockout is active while unlocked_at is
-- NULL and locked_until is NULL (until an admin unlocks) or still in the future:
-- expiry needs no job.
CREATE TABLE security.account_lockouts (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email           text        NOT NULL,
    user_id         uuid,
    lockout_reason  text        NOT NULL,
    locked_at       timestamptz NOT NULL DEFAULT security.now(),
    locked_until    timestamptz,
    ip_address      inet,
    attempt_count   integer,
    locked_by       text        DEFAULT security.actor(),
    unlocked_at     timestamptz,
    unlocked_by     text,
    notes           text,
    CONSTRAINT account_lockouts_email_length
        CHECK (length(email) BETWEEN 1 AND 254),
    CONSTRAINT account_lockouts_email_normalized
        CHECK (email = lower(btrim(email))),
    CONSTRAINT account_lockouts_lockout_reason_check
        CHECK (lockout_reason IN ('brute_force', 'manual', 'suspicious_activity',
                                  'emergency_lockdown', 'verification_required')),
    CONSTRAINT account_lockouts_until_after_locked
        CHECK (locked_until > locked_at),
    CONSTRAINT account_lockouts_attempt_count_check
        CHECK (attempt_count >= 0)
);
CREATE INDEX account_lockouts_email_idx
    ON security.account_lockouts (email, locked_at DESC);
CREATE INDEX account_lockouts_not_unlocked_idx
    ON security.account_lockouts (email) WHERE unlocked_at IS NULL;

COMMENT ON TABLE security.account_lockouts IS
    'One row per account lockout (brute force, manual, suspicious activity, emergency lockdown, verification required). locked_until NULL means until an admin unlocks; a lockout stops denying at locked_until by itself. Emails are stored trimmed and lower-cased.';
COMMENT ON COLUMN security.account_lockouts.locked_until IS
    'end of the lockout; NULL = until security.unlock_account';

-- ---------------------------------------------------------------------------------
-- accounts: the user directory the application keeps in sync.
CREATE TABLE security.accounts (
    user_id                 uuid        PRIMARY KEY,
    email                   text        NOT NULL,
    role                    text        NOT NULL,
    practice_id             uuid,
    is_admin                boolean     NOT NULL DEFAULT false,
    mfa_enabled             boolean     NOT NULL DEFAULT false,
    mfa_recommended         boolean     NOT NULL DEFAULT false,
    password_reset_required boolean     NOT NULL DEFAULT false,
    monitor_until           timestamptz,
    timezone                text,
    created_at              timestamptz NOT NULL DEFAULT security.now(),
    updated_at              timestamptz NOT NULL DEFAULT security.now(),
    CONSTRAINT accounts_role_check CHECK (role ~ '^[a-z][a-z_]*$')
);
CREATE UNIQUE INDEX accounts_email_key ON security.accounts (lower(email));
CREATE INDEX accounts_practice_id_idx ON security.accounts (practice_id);

COMMENT ON TABLE security.accounts IS
    'The platform''s user directory, kept in sync by the application: role, practice, admin flag, MFA and password-reset flags, post-unlock monitoring window and time zone used by the PHI rules. Emails are unique case-insensitively.';
COMMENT ON COLUMN security.accounts.monitor_until IS
    'set on unlock: the first failed login before this time raises post_unlock_failure';
COMMENT ON COLUMN security.accounts.timezone IS
    'IANA time zone for the unusual-hours rule; NULL = the server''s TimeZone setting';

-- ---------------------------------------------------------------------------------
-- blocked_ips: networks refused by check_login.  Active while unblocked_at is NULL
-- and blocked_until is NULL or in the future.
CREATE TABLE security.blocked_ips (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network         cidr        NOT NULL,
    reason          text        NOT NULL,
    blocked_at      timestamptz NOT NULL DEFAULT security.now(),
    blocked_by      text        DEFAULT security.actor(),
    blocked_until   timestamptz,
    unblocked_at    timestamptz,
    unblocked_by    text,
    notes           text,
    CONSTRAINT blocked_ips_reason_check CHECK (btrim(reason) <> ''),
    CONSTRAINT blocked_ips_until_after_blocked CHECK (blocked_until > blocked_at)
);
CREATE INDEX blocked_ips_network_idx
    ON security.blocked_ips USING gist (network inet_ops);

COMMENT ON TABLE security.blocked_ips IS
    'Blocked networks (cidr; a single address is a /32 or /128). A block is active while unblocked_at is NULL and blocked_until is NULL or in the future; the GiST index answers "which block contains this address".';
