-- pgTAP: the install script's schema, privileges and pg_dump registration.
-- Runs in a database where CREATE EXTENSION pgtap and vitaluxe_security were done;
-- everything it changes is rolled back.
BEGIN;
SELECT plan(113);

SET LOCAL vitaluxe_security.actor = 'pgtap';

-- ---------------------------------------------------------------------------------
-- Schema and roles
SELECT has_schema('security', 'schema security exists');
SELECT has_role('security_admin', 'role security_admin exists');
SELECT has_role('security_app', 'role security_app exists');
SELECT ok(NOT rolcanlogin, format('role %s cannot log in', rolname))
  FROM pg_roles WHERE rolname IN ('security_admin', 'security_app') ORDER BY rolname;

-- ---------------------------------------------------------------------------------
-- Tables
SELECT has_table('security', t, format('table security.%s exists', t))
  FROM unnest(ARRAY[
        'failed_login_attempts', 'account_lockouts', 'accounts', 'blocked_ips',
        'severity_levels', 'incidents', 'security_events', 'contacts', 'notifications',
        'audit_logs', 'encryption_keys', 'protected_columns', 'active_sessions', 'ip_geo',
        'impersonation_logs', 'flagged_orders', 'flagged_practices']::name[]) AS t;

SELECT tables_are('security', ARRAY[
        'failed_login_attempts', 'account_lockouts', 'accounts', 'blocked_ips',
        'severity_levels', 'incidents', 'security_events', 'contacts', 'notifications',
        'audit_logs', 'encryption_keys', 'protected_columns', 'active_sessions', 'ip_geo',
        'impersonation_logs', 'flagged_orders', 'flagged_practices',
        'login_state', 'system_state',
        'key_rotations', 'key_rotation_progress', 'key_usage',
        -- PHI audit rule state and hash chain (part 32)
        'phi_rate_state', 'phi_daily', 'phi_daily_patients', 'phi_event_state',
        'audit_chain_block', 'audit_chain_anchor', 'audit_seal_queue', 'audit_seal_state']::name[],
    'schema security has exactly the tables of the spec, the login path''s working state, key rotation''s bookkeeping and the PHI rule state and chain');

-- Views
SELECT has_view('security', v, format('view security.%s exists', v))
  FROM unnest(ARRAY[
        'account_security', 'security_events_tab', 'brute_force_attacks',
        'failed_login_trends', 'phi_access', 'phi_user_baseline', 'active_sessions_tab',
        'impersonation_tab', 'suspicious_orders', 'overdue_incidents',
        'system_health']::name[]) AS v;

-- ---------------------------------------------------------------------------------
-- Row level security on every table
SELECT ok(c.relrowsecurity, format('row level security is enabled on security.%s', c.relname))
  FROM pg_class c
 WHERE c.relnamespace = 'security'::regnamespace
   AND c.relname IN ('failed_login_attempts', 'account_lockouts', 'accounts', 'blocked_ips',
        'severity_levels', 'incidents', 'security_events', 'contacts', 'notifications',
        'audit_logs', 'encryption_keys', 'protected_columns', 'active_sessions', 'ip_geo',
        'impersonation_logs', 'flagged_orders', 'flagged_practices')
 ORDER BY c.relname;

SELECT is((SELECT status FROM security.system_health WHERE check_name = 'row_level_security'),
          'ok', 'system_health: row level security is on everywhere');
SELECT is((SELECT status FROM security.system_health WHERE check_name = 'public_grants'),
          'ok', 'system_health: nothing in schema security is granted to PUBLIC');
SELECT is((SELECT status FROM security.system_health WHERE check_name = 'preload'),
          CASE WHEN current_setting('shared_preload_libraries') ~ 'vitaluxe_security'
               THEN 'ok' ELSE 'off' END,
          'system_health: preload status matches shared_preload_libraries');
SELECT set_eq($$SELECT check_name FROM security.system_health$$,
              ARRAY['preload', 'row_level_security', 'public_grants', 'pending_notifications',
                    'key_age', 'key_cache', 'lockdown', 'audit_chain', 'phi_shared_memory'],
              'system_health has the preload, RLS, PUBLIC grant, outbox, key, lockdown, audit chain and PHI shared memory checks');
SELECT is((SELECT status FROM security.system_health WHERE check_name = 'phi_shared_memory'),
          CASE WHEN current_setting('shared_preload_libraries') ~ 'vitaluxe_security'
               THEN 'ok' ELSE 'off' END,
          'system_health: the PHI shared memory is on exactly when preloaded');

-- ---------------------------------------------------------------------------------
-- pg_dump registration
SELECT set_eq(
    $$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'vitaluxe_security'$$,
    $$SELECT c.oid::regclass::text FROM pg_class c
       WHERE c.relnamespace = 'security'::regnamespace AND c.relkind IN ('r', 'p', 'S')$$,
    'pg_extension_config_dump covers every table and sequence of schema security');
SELECT set_eq(
    $$SELECT x.reloid::regclass::text
        FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(reloid, cond)
       WHERE e.extname = 'vitaluxe_security' AND x.cond = 'WHERE NOT builtin'$$,
    ARRAY['security.contacts', 'security.severity_levels'],
    'only contacts and severity_levels skip their builtin rows in dumps');
SELECT is((SELECT count(*)::int FROM pg_extension e, unnest(e.extconfig) AS r(reloid)
            WHERE e.extname = 'vitaluxe_security'
              AND r.reloid = 'security.failed_login_attempts_id_seq'::regclass),
          1, 'identity sequences are dumped too (failed_login_attempts_id_seq)');

-- ---------------------------------------------------------------------------------
-- Privileges
SELECT ok(NOT has_table_privilege('security_app', 'security.failed_login_attempts', 'SELECT'),
          'security_app has no SELECT on failed_login_attempts');
SELECT ok(NOT has_table_privilege('security_admin', 'security.encryption_keys', 'SELECT'),
          'security_admin has no SELECT on encryption_keys (only the extension''s functions read it)');
SELECT ok(has_table_privilege('security_admin', 'security.account_lockouts', 'SELECT')
          AND NOT has_table_privilege('security_admin', 'security.account_lockouts', 'INSERT,UPDATE,DELETE'),
          'security_admin reads account_lockouts but changes it only through functions');
SELECT ok(has_table_privilege('security_app', 'security.accounts', 'SELECT')
          AND has_table_privilege('security_app', 'security.accounts', 'INSERT')
          AND has_table_privilege('security_app', 'security.accounts', 'UPDATE')
          AND NOT has_table_privilege('security_app', 'security.accounts', 'DELETE'),
          'security_app keeps the account directory: SELECT, INSERT, UPDATE, no DELETE');
SELECT ok(NOT has_function_privilege('security_app', 'security.contact_email(text)', 'EXECUTE')
          AND has_function_privilege('security_app', 'security.now()', 'EXECUTE'),
          'security_app executes the clock but not the admin helpers');
SELECT ok(NOT has_function_privilege('public', 'security.preload_active()', 'EXECUTE'),
          'PUBLIC cannot execute security.preload_active()');

SET LOCAL ROLE security_app;
SELECT throws_ok('SELECT count(*) FROM security.failed_login_attempts', '42501', NULL,
                 'security_app cannot read failed_login_attempts');
SELECT throws_ok('SELECT count(*) FROM security.encryption_keys', '42501', NULL,
                 'security_app cannot read encryption_keys');
SELECT throws_ok('SELECT count(*) FROM security.account_security', '42501', NULL,
                 'security_app cannot read the Security tab views');
SELECT lives_ok($$INSERT INTO security.audit_logs (user_id, action, patient_id)
                  VALUES ('00000000-0000-4000-8000-0000000000a1', 'patient_viewed',
                          '00000000-0000-4000-8000-0000000000b1')$$,
                'security_app writes the PHI audit trail');
SELECT throws_ok('SELECT count(*) FROM security.audit_logs', '42501', NULL,
                 'security_app cannot read the audit trail back');
RESET ROLE;

SET LOCAL ROLE security_admin;
SELECT lives_ok(format('SELECT * FROM security.%I', v),
                format('security_admin can read security.%s', v))
  FROM unnest(ARRAY[
        'account_security', 'security_events_tab', 'brute_force_attacks',
        'failed_login_trends', 'phi_access', 'phi_user_baseline', 'active_sessions_tab',
        'impersonation_tab', 'suspicious_orders', 'overdue_incidents',
        'system_health']::name[]) AS v;
SELECT is((SELECT count(*)::int FROM security.phi_access), 1,
          'security_admin sees through RLS: the audit row security_app wrote is in phi_access');
SELECT throws_ok('SELECT count(*) FROM security.encryption_keys', '42501', NULL,
                 'security_admin cannot read encryption_keys');
SELECT throws_ok($$INSERT INTO security.security_events (event_type, severity) VALUES ('brute_force', 'low')$$,
                 '42501', NULL, 'security_admin cannot forge security events');
SELECT lives_ok($$INSERT INTO security.contacts (role, email) VALUES ('legal', 'legal@example.com')$$,
                'security_admin can add a contact');
RESET ROLE;

-- ---------------------------------------------------------------------------------
-- CHECK constraints
SELECT col_has_check('security', 'account_lockouts', 'lockout_reason', 'account_lockouts.lockout_reason has a CHECK');
SELECT col_has_check('security', 'failed_login_attempts', 'source', 'failed_login_attempts.source has a CHECK');
SELECT col_has_check('security', 'security_events', 'event_type', 'security_events.event_type has a CHECK');
SELECT col_has_check('security', 'security_events', 'severity', 'security_events.severity has a CHECK');
SELECT col_has_check('security', 'incidents', 'status', 'incidents.status has a CHECK');
SELECT col_has_check('security', 'encryption_keys', 'status', 'encryption_keys.status has a CHECK');

SELECT throws_ok($$INSERT INTO security.account_lockouts (email, lockout_reason) VALUES ('pat@example.com', 'forgot_password')$$,
                 '23514', NULL, 'an unknown lockout reason is refused');
SELECT throws_ok($$INSERT INTO security.security_events (event_type, severity) VALUES ('brute_force', 'P0')$$,
                 '23514', NULL, 'a severity outside critical/high/medium/low is refused');
SELECT throws_ok($$INSERT INTO security.failed_login_attempts (email) VALUES ('Pat@Example.com')$$,
                 '23514', NULL, 'failed logins store normalized emails only');
SELECT lives_ok($$INSERT INTO security.security_events (event_type, severity) VALUES
                  ('brute_force', 'critical'), ('phi_access_rate', 'high'),
                  ('concurrent_session', 'medium'), ('key_rotation_due', 'low')$$,
                'each of the spec''s severities is accepted');
SELECT results_eq(
    $$SELECT severity, priority FROM security.security_events
       WHERE event_type IN ('brute_force', 'phi_access_rate', 'concurrent_session', 'key_rotation_due')
       ORDER BY priority$$,
    $$VALUES ('critical', 'P0'), ('high', 'P1'), ('medium', 'P2'), ('low', 'P3')$$,
    'security_events.priority is derived from severity');
SELECT is((SELECT attgenerated::text FROM pg_attribute
            WHERE attrelid = 'security.incidents'::regclass AND attname = 'priority'),
          's', 'incidents.priority is a stored generated column');

-- ---------------------------------------------------------------------------------
-- Keys: one active key per purpose
SELECT lives_ok($$INSERT INTO security.encryption_keys (purpose, wrapped_key) VALUES ('pgtap_test', '\x01')$$,
                'a first active key for a purpose is accepted');
SELECT throws_ok($$INSERT INTO security.encryption_keys (purpose, wrapped_key) VALUES ('pgtap_test', '\x02')$$,
                 '23505', NULL, 'a second active key for the same purpose is refused');
SELECT lives_ok($$INSERT INTO security.encryption_keys (purpose, wrapped_key, status) VALUES ('pgtap_test', '\x03', 'retired')$$,
                'retired keys of that purpose may coexist with the active one');
SELECT throws_ok($$INSERT INTO security.encryption_keys (purpose, wrapped_key, algorithm) VALUES ('pgtap_other', '\x04', 'aes-128-cbc')$$,
                 '23514', NULL, 'only aes-256-gcm keys are accepted');

-- ---------------------------------------------------------------------------------
-- Builtin rows
SELECT results_eq(
    $$SELECT priority, severity, response_time, next_business_day FROM security.severity_levels ORDER BY priority$$,
    $$VALUES ('P0', 'critical', interval '1 hour', false), ('P1', 'high', interval '4 hours', false),
             ('P2', 'medium', interval '24 hours', false), ('P3', 'low', NULL::interval, true)$$,
    'severity_levels: P0 1 h, P1 4 h, P2 24 h, P3 next business day');
SELECT is((SELECT email FROM security.contacts WHERE role = 'admin' AND builtin),
          'admin@vitaluxeservice.com', 'the builtin admin contact is admin@vitaluxeservice.com');
SELECT is(security.contact_email('executive'), 'admin@vitaluxeservice.com',
          'a role without a contact falls back to the admin contact');
SELECT is(security.contact_email('legal'), 'legal@example.com',
          'a role with a contact of its own gets it');
SELECT throws_ok($$UPDATE security.contacts SET email = 'x@example.com' WHERE builtin$$,
                 '55000', NULL, 'the builtin contact cannot be changed');
SELECT throws_ok($$DELETE FROM security.severity_levels WHERE priority = 'P3'$$,
                 '55000', NULL, 'builtin severity levels cannot be removed');
SELECT lives_ok($$INSERT INTO security.contacts (role, email) VALUES ('admin', 'soc@example.com')$$,
                'an ordinary admin row may be added');
SELECT is(security.contact_email('executive'), 'soc@example.com',
          'the ordinary admin row overrides the builtin one, for fallbacks too');

-- ---------------------------------------------------------------------------------
-- Indexes the rules rely on
SELECT has_index('security', 'blocked_ips', 'blocked_ips_network_idx', 'blocked_ips has its containment index');
SELECT is((SELECT amname FROM pg_class i JOIN pg_am a ON a.oid = i.relam
            WHERE i.oid = 'security.blocked_ips_network_idx'::regclass)::text,
          'gist', 'the blocked_ips network index is GiST (inet_ops)');
SELECT index_is_unique('security', 'accounts', 'accounts_email_key', 'account emails are unique');
SELECT throws_ok($$INSERT INTO security.accounts (user_id, email, role) VALUES
                   ('00000000-0000-4000-8000-0000000000c1', 'Dup@example.com', 'staff'),
                   ('00000000-0000-4000-8000-0000000000c2', 'dup@EXAMPLE.com', 'staff')$$,
                 '23505', NULL, 'account emails are unique case-insensitively');

SELECT * FROM finish();
ROLLBACK;
