-- The install script: schema, tables, constraints, builtin rows, privileges, pg_dump
-- registration and the health view.  Runs first, in the empty regression database;
-- the later tests use the extension it creates.  Everything this test changes is
-- rolled back (and the identity sequences it advanced are restarted), so the later
-- tests start from a fresh install.
CREATE EXTENSION vitaluxe_security;

-- Admin actions are stamped with the actor, not with whoever runs the suite.
SET vitaluxe_security.actor = 'regress_dba';

-- The extension's objects live in schema security, which is not relocatable.
SELECT extname, extversion, n.nspname AS schema, extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'vitaluxe_security';

-- The roles exist and cannot log in.
SELECT rolname, rolcanlogin, rolsuper
  FROM pg_roles
 WHERE rolname IN ('security_admin', 'security_app')
 ORDER BY rolname;

-- Every table of the schema, each with row level security enabled.
SELECT c.relname, c.relrowsecurity
  FROM pg_class c
 WHERE c.relnamespace = 'security'::regnamespace AND c.relkind IN ('r', 'p')
 ORDER BY c.relname;

-- The Security tab views.
SELECT c.relname AS view_name
  FROM pg_class c
 WHERE c.relnamespace = 'security'::regnamespace AND c.relkind = 'v'
 ORDER BY c.relname;

-- Every table and view says what it is.
SELECT c.relname AS undocumented
  FROM pg_class c
 WHERE c.relnamespace = 'security'::regnamespace AND c.relkind IN ('r', 'p', 'v')
   AND obj_description(c.oid, 'pg_class') IS NULL;

-- pg_dump dumps every table (builtin rows excepted) and every identity sequence.
SELECT c.relname, c.relkind, x.condition
  FROM pg_extension e,
       unnest(e.extconfig, e.extcondition) AS x(reloid, condition)
  JOIN pg_class c ON c.oid = x.reloid
 WHERE e.extname = 'vitaluxe_security'
 ORDER BY c.relname;

-- ... and nothing is left out.
SELECT c.relname AS not_dumped
  FROM pg_class c
 WHERE c.relnamespace = 'security'::regnamespace AND c.relkind IN ('r', 'p', 'S')
   AND NOT EXISTS (SELECT 1 FROM pg_extension e
                    WHERE e.extname = 'vitaluxe_security' AND c.oid = ANY (e.extconfig));

-- The policies: security_admin on every table but encryption_keys (which only the
-- extension's own functions read), security_app on the two tables the app writes.
SELECT tablename, policyname, roles, cmd
  FROM pg_policies
 WHERE schemaname = 'security'
 ORDER BY tablename, policyname;

-- Privileges: security_admin reads everything but encryption_keys and maintains
-- accounts, contacts and ip_geo; security_app only keeps the account directory and
-- writes the audit trail; PUBLIC gets nothing.
SELECT c.relname,
       has_table_privilege('security_admin', c.oid, 'SELECT') AS admin_select,
       has_table_privilege('security_admin', c.oid, 'INSERT') AS admin_insert,
       has_table_privilege('security_app', c.oid, 'SELECT') AS app_select,
       has_table_privilege('security_app', c.oid, 'INSERT') AS app_insert,
       has_table_privilege('security_app', c.oid, 'UPDATE') AS app_update
  FROM pg_class c
 WHERE c.relnamespace = 'security'::regnamespace AND c.relkind IN ('r', 'p')
 ORDER BY c.relname;

SELECT p.oid::regprocedure AS function,
       has_function_privilege('security_admin', p.oid, 'EXECUTE') AS admin,
       has_function_privilege('security_app', p.oid, 'EXECUTE') AS app
  FROM pg_proc p
 WHERE p.pronamespace = 'security'::regnamespace
   AND p.proname IN ('now', 'actor', 'preload_active', 'contact_email', 'protect_builtin_rows')
 ORDER BY p.proname;

-- Nothing in the schema is granted to PUBLIC (functions included: their default
-- EXECUTE grant was revoked).
SELECT status, detail FROM security.system_health WHERE check_name = 'public_grants';

-- The whole health view: one row per check.  The preload and phi_shared_memory rows
-- are shown as "does it match the server's configuration", so this output is the same
-- with and without shared_preload_libraries.
SELECT check_name,
       CASE WHEN check_name IN ('preload', 'phi_shared_memory')
            THEN (status = CASE WHEN current_setting('shared_preload_libraries') ~ 'vitaluxe_security'
                                THEN 'ok' ELSE 'off' END)::text
            ELSE status
       END AS status
  FROM security.system_health;

-- From here on the test writes rows: all of it inside one transaction that is rolled
-- back, each failing statement in its own savepoint.
BEGIN;
\set ON_ERROR_ROLLBACK on

-- Enumerated values outside their lists are refused by CHECK constraints.
INSERT INTO security.account_lockouts (email, lockout_reason, locked_at)
VALUES ('pat@example.com', 'forgot_password', '2025-03-01 12:00:00+00');
INSERT INTO security.failed_login_attempts (email, source, attempted_at)
VALUES ('pat@example.com', 'ldap', '2025-03-01 12:00:00+00');
INSERT INTO security.security_events (event_type, severity, occurred_at)
VALUES ('brute_force', 'severe', '2025-03-01 12:00:00+00');
INSERT INTO security.security_events (event_type, severity, occurred_at)
VALUES ('port_scan', 'low', '2025-03-01 12:00:00+00');
INSERT INTO security.security_events (event_type, severity, occurred_at, status)
VALUES ('brute_force', 'low', '2025-03-01 12:00:00+00', 'closed');
INSERT INTO security.security_events (event_type, severity, occurred_at, disposition)
VALUES ('brute_force', 'low', '2025-03-01 12:00:00+00', 'maybe');
INSERT INTO security.incidents (incident_type, title, severity, status, detected_at)
VALUES ('brute_force', 'Login storm', 'high', 'done', '2025-03-01 12:00:00+00');
INSERT INTO security.notifications (channel, recipient_role, recipient, subject, created_at)
VALUES ('fax', 'admin', 'admin@vitaluxeservice.com', 'Alert', '2025-03-01 12:00:00+00');
INSERT INTO security.flagged_orders (order_id, rule, flagged_at)
VALUES ('ord-1', 'too_expensive', '2025-03-01 12:00:00+00');
INSERT INTO security.active_sessions (session_id, email, started_at, last_activity, ended_at, end_reason)
VALUES ('00000000-0000-4000-8000-000000000001', 'pat@example.com', '2025-03-01 12:00:00+00',
        '2025-03-01 12:00:00+00', '2025-03-01 13:00:00+00', 'went_home');
INSERT INTO security.protected_columns (table_schema, table_name, column_name, column_type, registered_at)
VALUES ('public', 'patients', 'allergies', 'jsonb', '2025-03-01 12:00:00+00');

-- Other rules of the tables: emails are stored normalized and at most 254 characters,
-- a lockout ends after it starts, a session that ended says why, a block has a
-- reason, roles and countries have their spelling.
INSERT INTO security.failed_login_attempts (email, attempted_at)
VALUES ('  Pat@Example.COM ', '2025-03-01 12:00:00+00');
INSERT INTO security.failed_login_attempts (email, attempted_at)
VALUES ('', '2025-03-01 12:00:00+00');
INSERT INTO security.failed_login_attempts (email, attempted_at)
VALUES (repeat('a', 243) || '@example.com', '2025-03-01 12:00:00+00');
INSERT INTO security.account_lockouts (email, lockout_reason, locked_at, locked_until)
VALUES ('pat@example.com', 'manual', '2025-03-01 12:00:00+00', '2025-03-01 11:00:00+00');
INSERT INTO security.active_sessions (session_id, email, started_at, last_activity, ended_at)
VALUES ('00000000-0000-4000-8000-000000000002', 'pat@example.com', '2025-03-01 12:00:00+00',
        '2025-03-01 12:00:00+00', '2025-03-01 13:00:00+00');
INSERT INTO security.blocked_ips (network, reason, blocked_at) VALUES ('203.0.113.0/24', '  ', '2025-03-01 12:00:00+00');
INSERT INTO security.accounts (user_id, email, role, created_at, updated_at)
VALUES ('00000000-0000-4000-8000-0000000000a1', 'pat@example.com', 'Prescriber',
        '2025-03-01 12:00:00+00', '2025-03-01 12:00:00+00');
INSERT INTO security.ip_geo (network, country) VALUES ('203.0.113.0/24', 'us');
INSERT INTO security.contacts (role, email) VALUES ('legal', 'legal at example.com');

-- Emails differing only in case are the same account.
INSERT INTO security.accounts (user_id, email, role, created_at, updated_at)
VALUES ('00000000-0000-4000-8000-0000000000a1', 'pat@example.com', 'prescriber',
        '2025-03-01 12:00:00+00', '2025-03-01 12:00:00+00');
INSERT INTO security.accounts (user_id, email, role, created_at, updated_at)
VALUES ('00000000-0000-4000-8000-0000000000a2', 'PAT@example.com', 'prescriber',
        '2025-03-01 12:00:00+00', '2025-03-01 12:00:00+00');

-- A valid attempt is stamped by the extension's clock and defaults to source 'app';
-- a valid lockout records its actor.
INSERT INTO security.failed_login_attempts (email, ip_address)
VALUES ('pat@example.com', '203.0.113.7')
RETURNING email, ip_address, source, during_lockout, attempted_at = security.now() AS stamped_now;
INSERT INTO security.account_lockouts (email, lockout_reason, locked_until)
VALUES ('pat@example.com', 'manual', security.now() + interval '30 minutes')
RETURNING email, lockout_reason, locked_by, locked_at = security.now() AS stamped_now;

-- Priority is derived from severity, for events and incidents alike, and cannot be
-- written.
INSERT INTO security.security_events (event_type, severity)
VALUES ('brute_force', 'critical'), ('phi_access_rate', 'high'),
       ('concurrent_session', 'medium'), ('key_rotation_due', 'low');
SELECT event_type, severity, priority, status, details
  FROM security.security_events
 ORDER BY priority;
INSERT INTO security.incidents (incident_type, title, severity)
VALUES ('key_compromise', 'Data key exposed', 'critical'), ('phi_review', 'Odd access', 'medium')
RETURNING incident_type, severity, priority, status, opened_by, response_actions, prevention;
INSERT INTO security.security_events (event_type, severity, priority)
VALUES ('brute_force', 'critical', 'P3');
UPDATE security.security_events SET severity = 'low' WHERE event_type = 'brute_force'
RETURNING event_type, severity, priority;

-- The severity levels of the response procedure.
SELECT priority, severity, response_time, next_business_day, notify_roles, builtin
  FROM security.severity_levels
 ORDER BY priority;

-- Contacts: the builtin admin address; a role without a contact falls back to it.
SELECT role, email, builtin FROM security.contacts ORDER BY role, builtin;
SELECT security.contact_email('legal') AS legal, security.contact_email('admin') AS admin;

-- The builtin row cannot be changed or removed (pg_dump does not dump it) ...
UPDATE security.contacts SET email = 'security@example.com' WHERE role = 'admin';
DELETE FROM security.contacts WHERE role = 'admin';
UPDATE security.severity_levels SET response_time = interval '2 hours' WHERE priority = 'P0';
-- ... nor can a row be made builtin.
INSERT INTO security.contacts (role, email, builtin) VALUES ('legal', 'legal@example.com', true);

-- A row of one's own overrides it: for admin, and for every role that falls back to
-- admin, until that role gets a contact of its own.  One user row per role.
INSERT INTO security.contacts (role, email) VALUES ('admin', 'security@example.com');
SELECT security.contact_email('admin') AS admin, security.contact_email('legal') AS legal;
INSERT INTO security.contacts (role, email, name) VALUES ('legal', 'legal@example.com', 'Counsel');
SELECT security.contact_email('admin') AS admin, security.contact_email('legal') AS legal,
       security.contact_email('executive') AS executive;
INSERT INTO security.contacts (role, email) VALUES ('legal', 'other-legal@example.com');
SELECT role, email, builtin FROM security.contacts ORDER BY role, builtin;

-- The roles at work: security_app cannot read the security tables; security_admin
-- reads the views (empty or not) and maintains the contacts, but writes no event.
SET ROLE security_app;
SELECT count(*) FROM security.failed_login_attempts;
SELECT count(*) FROM security.account_security;
INSERT INTO security.audit_logs (user_id, action, patient_id)
VALUES ('00000000-0000-4000-8000-0000000000a1', 'patient_viewed', '00000000-0000-4000-8000-0000000000b1');
SELECT count(*) FROM security.audit_logs;
RESET ROLE;
SELECT user_id, action, patient_id, occurred_at = security.now() AS stamped_now
  FROM security.audit_logs;
SET ROLE security_admin;
-- (The access above is stamped with the wall clock: between 03:00 and 05:00 in the
-- session's zone it also raises phi_unusual_hours, so that rule is not counted here.)
SELECT (SELECT count(*) FROM security.account_security) AS lockouts,
       (SELECT count(*) FROM security.security_events_tab
         WHERE event_type IS DISTINCT FROM 'phi_unusual_hours') AS events,
       (SELECT count(*) FROM security.brute_force_attacks) AS attacking_ips,
       (SELECT count(*) FROM security.phi_access) AS phi_user_days,
       (SELECT count(*) FROM security.overdue_incidents) AS overdue;
SELECT check_name FROM security.system_health;
INSERT INTO security.contacts (role, email) VALUES ('executive', 'ceo@example.com');
SELECT security.contact_email('executive') AS executive;
INSERT INTO security.security_events (event_type, severity) VALUES ('brute_force', 'low');
RESET ROLE;

\set ON_ERROR_ROLLBACK off
ROLLBACK;

-- Leave a fresh install behind: the rows are gone, restart the identities the failed
-- and rolled-back inserts advanced.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT c.relname, a.attname
               FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
              WHERE c.relnamespace = 'security'::regnamespace AND c.relkind = 'r'
                AND a.attidentity <> ''
    LOOP
        EXECUTE format('ALTER TABLE security.%I ALTER COLUMN %I RESTART', t.relname, t.attname);
    END LOOP;
END
$$;
SELECT role, email, builtin FROM security.contacts ORDER BY role, builtin;
RESET vitaluxe_security.actor;
