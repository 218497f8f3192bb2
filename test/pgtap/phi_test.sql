-- pgTAP: PHI access auditing (SPEC section 3): the native triggers and functions exist
-- with the right shape and privileges, the rules fire and de-duplicate, the chain
-- verifies and finds tampering.  Everything is rolled back.
BEGIN;
SELECT plan(35);
SET LOCAL TimeZone = 'UTC';
SET LOCAL vitaluxe_security.actor = 'pgtap';

-- Shape
SELECT has_table('security', t, format('table security.%s exists', t))
  FROM unnest(ARRAY['phi_rate_state', 'phi_daily', 'phi_daily_patients', 'phi_event_state',
                    'audit_chain_block', 'audit_chain_anchor', 'audit_seal_queue', 'audit_seal_state']::name[]) AS t;
SELECT hasnt_column('security', 'audit_logs', 'row_hash',
                    'audit_logs has no row_hash: the insert trigger hashes rows for the sealer, no row is rewritten');
SELECT has_column('security', 'security_events', 'row_hash', 'security_events.row_hash exists');
SELECT is((SELECT p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
             FROM pg_proc p WHERE p.oid = 'security.verify_audit_chain()'::regprocedure),
          true, 'verify_audit_chain is native');
SELECT is((SELECT bool_and(l.lanname = 'c')
             FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
            WHERE t.tgrelid = 'security.audit_logs'::regclass AND NOT t.tgisinternal),
          true, 'every trigger on audit_logs is native');
SELECT is((SELECT count(*)::int FROM pg_trigger t
            WHERE t.tgrelid = 'security.audit_logs'::regclass AND t.tgname = 'audit_logs_phi_rules'
              AND t.tgnewtable IS NOT NULL AND (t.tgtype & 1) = 0),
          1, 'the rules trigger is per statement with a transition table');
SELECT function_returns('security', 'export_user_audit', ARRAY['uuid', 'timestamp with time zone', 'timestamp with time zone'],
                        'setof jsonb', 'export_user_audit returns setof jsonb');
SELECT ok(has_function_privilege('security_app',
          'security.log_phi_access(uuid, uuid, text, text, text, uuid, uuid, inet, jsonb, timestamptz)', 'EXECUTE'),
          'security_app may log PHI access');
SELECT ok(NOT has_function_privilege('security_app', 'security.verify_audit_chain()', 'EXECUTE'),
          'security_app may not verify the chain');
SELECT ok(has_function_privilege('security_admin', 'security.export_user_audit(uuid, timestamptz, timestamptz)', 'EXECUTE'),
          'security_admin may export evidence');
SELECT ok(NOT has_function_privilege('public', 'security.purge_audit_before(timestamptz)', 'EXECUTE'),
          'PUBLIC may not purge');

-- Rules
INSERT INTO security.accounts (user_id, email, role, practice_id, timezone) VALUES
    ('c0000000-0000-0000-0000-000000000001', 'tap.ny@clinic.test', 'provider',
     'c0000000-0000-0000-0001-000000000001', 'America/New_York'),
    ('c0000000-0000-0000-0000-000000000002', 'tap.rx@clinic.test', 'pharmacy',
     'c0000000-0000-0000-0001-000000000002', 'America/New_York');
INSERT INTO security.audit_logs (occurred_at, user_id, action, patient_id, practice_id)
SELECT '2026-03-02 15:00+00'::timestamptz + g * interval '1 second', 'c0000000-0000-0000-0000-000000000001',
       'patient_viewed', ('c0000000-0000-0000-0002-' || lpad(g::text, 12, '0'))::uuid,
       'c0000000-0000-0000-0001-000000000001'
  FROM generate_series(1, 200) AS g;
SELECT is((SELECT count(*)::int FROM security.security_events
            WHERE user_id = 'c0000000-0000-0000-0000-000000000001' AND event_type = 'phi_access_rate'),
          1, '200 patients in 200 s: one rate event');
SELECT is((SELECT access_count FROM security.phi_events
            WHERE user_id = 'c0000000-0000-0000-0000-000000000001' AND event_type = 'phi_access_rate'),
          151::bigint, 'its running count covers the accesses after the 50th patient');
SELECT is((SELECT count(*)::int FROM security.security_events
            WHERE user_id = 'c0000000-0000-0000-0000-000000000001' AND event_type <> 'phi_access_rate'),
          0, 'own practice at 10:00 New York: no other rule fires');
SELECT lives_ok($$SELECT security.log_phi_access('c0000000-0000-0000-0000-000000000002',
                    'c0000000-0000-0000-0002-000000000001', 'prescription_accessed',
                    practice_id => 'c0000000-0000-0000-0001-000000000001', occurred_at => '2026-03-02 15:10+00')$$,
                'a pharmacist reads another practice');
SELECT is((SELECT count(*)::int FROM security.security_events WHERE user_id = 'c0000000-0000-0000-0000-000000000002'),
          0, 'pharmacy is exempt from cross-practice');
SELECT lives_ok($$SELECT security.log_phi_access('c0000000-0000-0000-0000-000000000001',
                    'c0000000-0000-0000-0002-000000009999', 'patient_viewed',
                    practice_id => 'c0000000-0000-0000-0001-000000000009', occurred_at => '2026-03-03 08:30+00')$$,
                'a provider reads another practice at 03:30 New York');
SELECT set_eq($$SELECT event_type FROM security.security_events
                 WHERE user_id = 'c0000000-0000-0000-0000-000000000001' AND occurred_at = '2026-03-03 08:30+00'$$,
              ARRAY['phi_cross_practice', 'phi_unusual_hours'], 'cross-practice and unusual hours fire');
SELECT is((SELECT count(*)::int FROM security.phi_accessed_patients('c0000000-0000-0000-0000-000000000001', NULL, NULL)),
          201, 'phi_accessed_patients: one row per patient');

-- Bad input
SELECT throws_ok($$SELECT security.log_phi_access(NULL, NULL, 'patient_viewed')$$, '22004', NULL, 'NULL user: 22004');
SELECT throws_ok($$SELECT security.log_phi_access('c0000000-0000-0000-0000-000000000001', NULL, 'patient_viewed')$$,
                 '22004', NULL, 'NULL patient for a patient action: 22004');
SELECT throws_ok($$INSERT INTO security.audit_logs (user_id, action, patient_id, occurred_at)
                   VALUES ('c0000000-0000-0000-0000-000000000001', 'patient_viewed',
                           'c0000000-0000-0000-0002-000000000001', security.now() + interval '1 day')$$,
                 '22023', NULL, 'occurred_at a day ahead: 22023');

-- Chain
SELECT is((SELECT intact FROM security.verify_audit_chain()), true, 'the chain verifies');
SELECT has_view('security', 'audit_chain', 'the chain entry by entry is the view security.audit_chain');
SELECT is((SELECT count(*) FROM security.audit_chain), (SELECT rows_checked FROM security.verify_audit_chain()),
          'the view shows every entry verify walks');
SELECT ok((SELECT count(*) FROM security.audit_chain_block) < (SELECT count(*) FROM security.audit_chain),
          'the chain is stored one block per seal, not one row per audit row');
SET LOCAL session_replication_role = replica;
UPDATE security.audit_logs SET entity_id = 'x' WHERE id = (SELECT max(id) FROM security.audit_logs);
SET LOCAL session_replication_role = origin;
SELECT is((SELECT first_broken_id FROM security.verify_audit_chain()), (SELECT max(id) FROM security.audit_logs),
          'a row changed behind the triggers is found');
SELECT throws_ok($$DELETE FROM security.audit_logs$$, '42501', NULL, 'DELETE is refused');

SELECT * FROM finish();
ROLLBACK;
