-- vitaluxe_security install script, part 20: severity levels, incidents, security
-- events, contacts, notification outbox (SPEC sections 2 and 8).

-- ---------------------------------------------------------------------------------
-- Builtin rows.
-- severity_levels and contacts ship rows of their own (builtin = true).  The install
-- script creates them, so pg_dump must not dump them (config dump filter
-- 'WHERE NOT builtin', see 90_security.sql) or a restore would insert them twice.
-- In exchange they cannot be changed in place (a change would be lost by a dump and
-- restore): the trigger below refuses UPDATE and DELETE of a builtin row.  A contact
-- is customised by inserting an ordinary row for the role, which overrides the
-- builtin one (security.contact_email).  Upgrade scripts that must change a builtin
-- row disable the trigger around the change.
CREATE FUNCTION security.protect_builtin_rows() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'contacts' THEN
        RAISE EXCEPTION 'the builtin contact for role "%" cannot be changed', OLD.role
            USING ERRCODE = '55000',
                  DETAIL = 'Builtin rows belong to the extension and are not dumped by pg_dump.',
                  HINT = format('Insert an ordinary row (builtin = false) for role "%s" into security.contacts: it overrides the builtin one.', OLD.role);
    ELSE
        RAISE EXCEPTION 'builtin row of %.% cannot be changed', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = '55000',
                  DETAIL = 'Builtin rows belong to the extension and are not dumped by pg_dump.',
                  HINT = 'Builtin rows are changed only by an extension upgrade.';
    END IF;
END
$fn$;
COMMENT ON FUNCTION security.protect_builtin_rows() IS
    'Trigger: refuses UPDATE and DELETE of rows shipped by the extension (builtin = true), which pg_dump does not dump.';

-- ---------------------------------------------------------------------------------
-- severity_levels: priority <-> severity, response time and who is notified.
CREATE TABLE security.severity_levels (
    priority            text    PRIMARY KEY,
    severity            text    NOT NULL UNIQUE,
    response_time       interval,
    next_business_day   boolean NOT NULL DEFAULT false,
    notify_roles        text[]  NOT NULL DEFAULT '{admin}',
    description         text,
    builtin             boolean NOT NULL DEFAULT false,
    CONSTRAINT severity_levels_priority_check
        CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
    CONSTRAINT severity_levels_severity_check
        CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    CONSTRAINT severity_levels_pair_check
        CHECK ((priority, severity) IN (('P0', 'critical'), ('P1', 'high'),
                                        ('P2', 'medium'), ('P3', 'low'))),
    -- a level answers either within response_time or by the next business day
    CONSTRAINT severity_levels_deadline_check
        CHECK ((response_time IS NULL) = next_business_day),
    CONSTRAINT severity_levels_response_time_positive
        CHECK (response_time > interval '0')
);

INSERT INTO security.severity_levels
       (priority, severity, response_time, next_business_day, notify_roles, description, builtin)
VALUES ('P0', 'critical', interval '1 hour',   false, '{admin,executive}',
        'Critical: active attack, PHI exposure or key compromise; respond within 1 hour', true),
       ('P1', 'high',     interval '4 hours',  false, '{admin}',
        'High: likely compromise or policy breach; respond within 4 hours', true),
       ('P2', 'medium',   interval '24 hours', false, '{admin}',
        'Medium: suspicious activity to review; respond within 24 hours', true),
       ('P3', 'low',      NULL,                true,  '{admin}',
        'Low: informational; respond by the next business day', true);

CREATE TRIGGER severity_levels_protect_builtin
    BEFORE UPDATE OR DELETE ON security.severity_levels
    FOR EACH ROW WHEN (OLD.builtin)
    EXECUTE FUNCTION security.protect_builtin_rows();

COMMENT ON TABLE security.severity_levels IS
    'The four incident priorities of the response procedure: P0 critical (1 hour), P1 high (4 hours), P2 medium (24 hours), P3 low (next business day), with the contact roles each one notifies. Rows are builtin (shipped by the extension, read-only).';

-- ---------------------------------------------------------------------------------
-- incidents: one row per incident, carrying every field of the post-incident report.
CREATE TABLE security.incidents (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_type       text        NOT NULL,
    title               text        NOT NULL,
    severity            text        NOT NULL,
    priority            text        GENERATED ALWAYS AS (
                            CASE severity
                                WHEN 'critical' THEN 'P0'
                                WHEN 'high'     THEN 'P1'
                                WHEN 'medium'   THEN 'P2'
                                WHEN 'low'      THEN 'P3'
                            END) STORED,
    status              text        NOT NULL DEFAULT 'open',
    detected_at         timestamptz NOT NULL DEFAULT security.now(),
    respond_by          timestamptz,
    resolved_at         timestamptz,
    opened_by           text        DEFAULT security.actor(),
    resolved_by         text,
    summary             text,
    detection           text,
    impact              text,
    response_actions    jsonb       NOT NULL DEFAULT '[]',
    root_cause          text,
    prevention          jsonb       NOT NULL DEFAULT '[]',
    lessons_learned     text,
    details             jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT incidents_incident_type_check CHECK (incident_type ~ '^[a-z][a-z_]*$'),
    CONSTRAINT incidents_title_check CHECK (btrim(title) <> ''),
    CONSTRAINT incidents_severity_check
        CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    CONSTRAINT incidents_status_check
        CHECK (status IN ('open', 'investigating', 'contained', 'resolved', 'closed')),
    CONSTRAINT incidents_response_actions_array
        CHECK (jsonb_typeof(response_actions) = 'array'),
    CONSTRAINT incidents_prevention_array
        CHECK (jsonb_typeof(prevention) = 'array'),
    CONSTRAINT incidents_details_object
        CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX incidents_respond_by_open_idx
    ON security.incidents (respond_by) WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX incidents_detected_at_idx ON security.incidents (detected_at);

COMMENT ON TABLE security.incidents IS
    'Security incidents with every field of the post-incident report template (summary, detection, impact, response actions, root cause, prevention action items, lessons learned); priority is derived from severity and respond_by from security.severity_levels.';
COMMENT ON COLUMN security.incidents.prevention IS
    'prevention action items: a JSON array';
COMMENT ON COLUMN security.incidents.response_actions IS
    'actions taken during the response: a JSON array';

-- ---------------------------------------------------------------------------------
-- security_events: every alert the rules raise.
CREATE TABLE security.security_events (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type      text        NOT NULL,
    severity        text        NOT NULL,
    priority        text        GENERATED ALWAYS AS (
                        CASE severity
                            WHEN 'critical' THEN 'P0'
                            WHEN 'high'     THEN 'P1'
                            WHEN 'medium'   THEN 'P2'
                            WHEN 'low'      THEN 'P3'
                        END) STORED,
    user_id         uuid,
    email           text,
    ip_address      inet,
    attempt_count   integer,
    details         jsonb       NOT NULL DEFAULT '{}',
    occurred_at     timestamptz NOT NULL DEFAULT security.now(),
    status          text        NOT NULL DEFAULT 'open',
    disposition     text,
    notes           text,
    incident_id     bigint      REFERENCES security.incidents (id),
    resolved_at     timestamptz,
    resolved_by     text,
    CONSTRAINT security_events_event_type_check
        CHECK (event_type IN ('brute_force', 'ip_multi_account', 'post_unlock_failure',
                              'phi_access_rate', 'phi_cross_practice', 'phi_unusual_hours',
                              'phi_baseline_deviation', 'key_access', 'key_access_denied',
                              'key_rotation_due', 'key_compromised', 'concurrent_session',
                              'impersonation_denied', 'impersonation_repeat',
                              'suspicious_order', 'emergency_lockdown', 'incident_resolved')),
    CONSTRAINT security_events_severity_check
        CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    CONSTRAINT security_events_status_check
        CHECK (status IN ('open', 'acknowledged', 'resolved')),
    CONSTRAINT security_events_disposition_check
        CHECK (disposition IN ('legitimate', 'unauthorized', 'false_positive', 'resolved')),
    CONSTRAINT security_events_details_object
        CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX security_events_occurred_at_idx ON security.security_events (occurred_at);
CREATE INDEX security_events_type_idx ON security.security_events (event_type, occurred_at);
CREATE INDEX security_events_unresolved_idx
    ON security.security_events (status) WHERE status <> 'resolved';
CREATE INDEX security_events_email_idx ON security.security_events (email);
CREATE INDEX security_events_ip_idx ON security.security_events (ip_address);
CREATE INDEX security_events_user_idx ON security.security_events (user_id, occurred_at);
CREATE INDEX security_events_incident_idx
    ON security.security_events (incident_id) WHERE incident_id IS NOT NULL;

COMMENT ON TABLE security.security_events IS
    'Every security alert raised by the rules (brute force, PHI anomalies, key access, sessions, impersonation, orders, lockdown, incidents), with its severity, derived priority, triage status and disposition. Each new event is also sent on NOTIFY security_alerts and queued in security.notifications.';

-- ---------------------------------------------------------------------------------
-- contacts: who is notified for a role.
-- The extension ships one builtin row (admin -> admin@vitaluxeservice.com).  A row a
-- user inserts for a role (builtin = false) overrides the builtin row for that role;
-- security.contact_email(role) resolves: the user row, else the builtin row, else
-- the admin contact.  At most one user row and one builtin row per role (the two
-- partial unique indexes), so a dump (user rows only) restores onto a fresh install
-- (builtin rows only) without duplicate keys.  Builtin rows take negative ids, a
-- range the identity sequence never reaches, so even rows added by a later upgrade
-- cannot collide with restored user rows.
CREATE TABLE security.contacts (
    id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role        text    NOT NULL,
    email       text    NOT NULL,
    name        text,
    builtin     boolean NOT NULL DEFAULT false,
    CONSTRAINT contacts_role_check CHECK (role ~ '^[a-z][a-z_]*$'),
    CONSTRAINT contacts_email_check CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    CONSTRAINT contacts_builtin_ids CHECK (builtin = (id < 0))
);
CREATE UNIQUE INDEX contacts_role_user_key ON security.contacts (role) WHERE NOT builtin;
CREATE UNIQUE INDEX contacts_role_builtin_key ON security.contacts (role) WHERE builtin;

INSERT INTO security.contacts (id, role, email, name, builtin)
OVERRIDING SYSTEM VALUE
VALUES (-1, 'admin', 'admin@vitaluxeservice.com', 'VitaLuxe security administrator', true);

CREATE TRIGGER contacts_protect_builtin
    BEFORE UPDATE OR DELETE ON security.contacts
    FOR EACH ROW WHEN (OLD.builtin)
    EXECUTE FUNCTION security.protect_builtin_rows();

COMMENT ON TABLE security.contacts IS
    'Notification recipients by role (admin, executive, legal, ...). The builtin admin row (admin@vitaluxeservice.com) is shipped by the extension and read-only; insert an ordinary row for a role to override it. Resolve with security.contact_email(role).';

CREATE FUNCTION security.contact_email(role text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT c.email
      FROM security.contacts AS c
     WHERE c.role = $1 OR c.role = 'admin'
     ORDER BY c.role IS DISTINCT FROM $1,   -- the role's own rows first, then admin
              c.builtin                      -- a user row before the builtin one
     LIMIT 1
$fn$;
COMMENT ON FUNCTION security.contact_email(text) IS
    'Email to notify for a role: the role''s own contact (a user row overrides the builtin one), else the admin contact.';

-- ---------------------------------------------------------------------------------
-- notifications: the outbox the application's mailer drains
-- (security.claim_notifications / security.mark_notification_sent).
CREATE TABLE security.notifications (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text        NOT NULL DEFAULT 'email',
    recipient_role  text        NOT NULL,
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    payload         jsonb       NOT NULL DEFAULT '{}',
    event_id        bigint      REFERENCES security.security_events (id),
    created_at      timestamptz NOT NULL DEFAULT security.now(),
    claimed_at      timestamptz,
    sent_at         timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    CONSTRAINT notifications_channel_check
        CHECK (channel IN ('email', 'sms', 'pager', 'webhook')),
    CONSTRAINT notifications_attempts_check CHECK (attempts >= 0)
);
CREATE INDEX notifications_unsent_idx
    ON security.notifications (created_at) WHERE sent_at IS NULL;
CREATE INDEX notifications_event_idx
    ON security.notifications (event_id) WHERE event_id IS NOT NULL;

COMMENT ON TABLE security.notifications IS
    'Outbox of alert notifications (channel, recipient role and address, subject, JSON payload without PHI). The application''s mailer claims unsent rows with security.claim_notifications and confirms them with security.mark_notification_sent.';
