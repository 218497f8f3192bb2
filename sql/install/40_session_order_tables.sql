-- vitaluxe_security install script, part 40: sessions, IP geography, impersonation,
-- flagged orders and practices (SPEC sections 5 to 7).

-- ---------------------------------------------------------------------------------
-- active_sessions: application sessions started by security.record_successful_login.
-- A session is live while ended_at is NULL and its last activity is within
-- vitaluxe_security.session_idle_timeout.
CREATE TABLE security.active_sessions (
    session_id      uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid,
    email           text        NOT NULL,
    ip_address      inet,
    user_agent      text,
    started_at      timestamptz NOT NULL DEFAULT security.now(),
    last_activity   timestamptz NOT NULL DEFAULT security.now(),
    ended_at        timestamptz,
    end_reason      text,
    CONSTRAINT active_sessions_end_reason_check
        CHECK (end_reason IN ('logout', 'idle_timeout', 'terminated', 'password_reset',
                              'emergency_lockdown', 'concurrent_session')),
    CONSTRAINT active_sessions_ended_has_reason
        CHECK (ended_at IS NULL OR end_reason IS NOT NULL)
);
CREATE INDEX active_sessions_live_idx
    ON security.active_sessions (user_id, last_activity) WHERE ended_at IS NULL;

COMMENT ON TABLE security.active_sessions IS
    'Application sessions: started by security.record_successful_login, kept alive by security.touch_session, ended by logout, idle timeout, termination, password reset or emergency lockdown (end_reason).';

-- ---------------------------------------------------------------------------------
-- ip_geo: network -> country/region, loaded by the DBA; the most specific
-- containing network wins.
CREATE TABLE security.ip_geo (
    network     cidr    PRIMARY KEY,
    country     char(2) NOT NULL,
    region      text,
    CONSTRAINT ip_geo_country_check CHECK (country ~ '^[A-Z]{2}$')
);
CREATE INDEX ip_geo_network_gist_idx ON security.ip_geo USING gist (network inet_ops);

COMMENT ON TABLE security.ip_geo IS
    'IP geography loaded by the DBA: network (cidr) to ISO 3166 country code and region. Used to rate concurrent sessions from different countries as high risk; the most specific containing network wins.';

-- ---------------------------------------------------------------------------------
-- impersonation_logs: every impersonation request, allowed or refused.
CREATE TABLE security.impersonation_logs (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_user_id   uuid,
    admin_email     text        NOT NULL,
    target_user_id  uuid,
    target_email    text        NOT NULL,
    reason          text        NOT NULL,
    allowed         boolean     NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT security.now(),
    ended_at        timestamptz,
    ip_address      inet,
    CONSTRAINT impersonation_logs_reason_check CHECK (btrim(reason) <> '')
);
CREATE INDEX impersonation_logs_target_idx
    ON security.impersonation_logs (target_user_id, started_at);

COMMENT ON TABLE security.impersonation_logs IS
    'Every impersonation request (security.start_impersonation): who, whom, why, from where, whether it was allowed (only admins may impersonate) and when it ended.';

-- ---------------------------------------------------------------------------------
-- flagged_orders: orders the suspicious-order rules flagged (security.watch_orders).
-- Order, patient and practice ids are the application's, kept as text.
CREATE TABLE security.flagged_orders (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        text        NOT NULL,
    patient_id      text,
    practice_id     text,
    rule            text        NOT NULL,
    details         jsonb,
    event_id        bigint      REFERENCES security.security_events (id),
    flagged_at      timestamptz NOT NULL DEFAULT security.now(),
    status          text        NOT NULL DEFAULT 'open',
    CONSTRAINT flagged_orders_rule_check
        CHECK (rule IN ('patient_frequency', 'controlled_quantity', 'ship_state')),
    CONSTRAINT flagged_orders_status_check
        CHECK (status IN ('open', 'cancelled', 'cleared'))
);
CREATE INDEX flagged_orders_order_idx ON security.flagged_orders (order_id);
CREATE INDEX flagged_orders_flagged_at_idx ON security.flagged_orders (flagged_at);

COMMENT ON TABLE security.flagged_orders IS
    'Prescription orders flagged by the suspicious-order rules (patient frequency, controlled-substance quantity, ship-to state), with the security event raised for each and the review status (open, cancelled, cleared).';

-- ---------------------------------------------------------------------------------
-- flagged_practices: practices flagged for review (security.flag_practice).
CREATE TABLE security.flagged_practices (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    practice_id     text        NOT NULL,
    reason          text        NOT NULL,
    flagged_at      timestamptz NOT NULL DEFAULT security.now(),
    flagged_by      text        DEFAULT security.actor(),
    cleared_at      timestamptz,
    CONSTRAINT flagged_practices_reason_check CHECK (btrim(reason) <> '')
);
CREATE INDEX flagged_practices_practice_idx ON security.flagged_practices (practice_id);

COMMENT ON TABLE security.flagged_practices IS
    'Practices flagged for review (security.flag_practice), e.g. after suspicious orders; cleared_at is set when the review is closed.';
