-- pgTAP: the login path (SPEC sections 1 and 2): signatures, SECURITY DEFINER hygiene
-- for the whole schema, grants, the verdict type, and the lockout rules end to end
-- inside one transaction (one clock reading; time travel with clock_offset).
-- Runs in a database where CREATE EXTENSION pgtap and vitaluxe_security were done;
-- everything it changes is rolled back.
BEGIN;
SELECT plan(105);

SET LOCAL vitaluxe_security.actor = 'pgtap';
SET LOCAL client_min_messages = warning;

-- ---------------------------------------------------------------------------------
-- Signatures and return types
SELECT has_function('security', f, a, format('function security.%s(%s) exists', f, array_to_string(a, ', ')))
  FROM (VALUES ('check_login', ARRAY['text', 'inet']),
               ('record_failed_login', ARRAY['text', 'inet', 'text']),
               ('record_successful_login', ARRAY['text', 'inet', 'text']),
               ('unlock_account', ARRAY['text', 'text']),
               ('lock_account', ARRAY['text', 'text', 'text', 'timestamp with time zone']),
               ('block_ip', ARRAY['cidr', 'text', 'timestamp with time zone']),
               ('unblock_ip', ARRAY['cidr', 'text']),
               ('resolve_event', ARRAY['bigint', 'text', 'text']),
               ('claim_notifications', ARRAY['integer']),
               ('mark_notification_sent', ARRAY['bigint'])) AS s(f, a);

SELECT is(pg_get_function_result(p::regprocedure), r, format('%s returns %s', p, r))
  FROM (VALUES ('security.check_login(text,inet)', 'security.login_verdict'),
               ('security.record_failed_login(text,inet,text)', 'security.login_verdict'),
               ('security.record_successful_login(text,inet,text)', 'uuid'),
               ('security.unlock_account(text,text)', 'integer'),
               ('security.lock_account(text,text,text,timestamptz)', 'bigint'),
               ('security.block_ip(cidr,text,timestamptz)', 'bigint'),
               ('security.unblock_ip(cidr,text)', 'integer'),
               ('security.resolve_event(bigint,text,text)', 'void'),
               ('security.claim_notifications(integer)', 'SETOF security.notifications'),
               ('security.mark_notification_sent(bigint)', 'boolean')) AS s(p, r);

-- user_agent and until are optional.
SELECT is(pg_get_function_arguments(p::regprocedure), a, format('%s takes (%s)', p, a))
  FROM (VALUES ('security.record_failed_login(text,inet,text)', 'email text, ip inet, user_agent text DEFAULT NULL::text'),
               ('security.record_successful_login(text,inet,text)', 'email text, ip inet, user_agent text DEFAULT NULL::text'),
               ('security.lock_account(text,text,text,timestamptz)',
                'email text, reason text, notes text, until timestamp with time zone DEFAULT NULL::timestamp with time zone'),
               ('security.block_ip(cidr,text,timestamptz)',
                'network cidr, reason text, until timestamp with time zone DEFAULT NULL::timestamp with time zone')) AS s(p, a);

-- None is STRICT (a NULL argument is a clear 22004, not a silent NULL), all are native
-- SECURITY DEFINER functions.
SELECT ok(p.prosecdef AND NOT p.proisstrict AND l.lanname = 'c',
          format('%s is native, SECURITY DEFINER and not STRICT', p.oid::regprocedure))
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'security'::regnamespace
   AND p.proname IN ('check_login', 'record_failed_login', 'record_successful_login', 'unlock_account',
                     'lock_account', 'block_ip', 'unblock_ip', 'resolve_event', 'claim_notifications',
                     'mark_notification_sent')
 ORDER BY p.proname;

-- ---------------------------------------------------------------------------------
-- The whole schema: every SECURITY DEFINER function pins search_path, nothing is
-- granted to PUBLIC.
SELECT ok(count(*) >= 10, 'schema security has SECURITY DEFINER functions to check')
  FROM pg_proc WHERE pronamespace = 'security'::regnamespace AND prosecdef;
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'every SECURITY DEFINER function in schema security has search_path=pg_catalog, pg_temp')
  FROM pg_proc p
 WHERE p.pronamespace = 'security'::regnamespace AND p.prosecdef
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'no function in schema security is executable by PUBLIC')
  FROM pg_proc p
 WHERE p.pronamespace = 'security'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE');
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'no function in schema security has an explicit PUBLIC grant')
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE p.pronamespace = 'security'::regnamespace AND a.grantee = 0;

-- ---------------------------------------------------------------------------------
-- Grants: security_app calls exactly the three login functions, log_phi_access (the PHI
-- audit trail) and, for PHI columns, encrypt and the decrypting views' function;
-- security_admin the admin actions and the outbox.
SELECT results_eq(
    $$SELECT p.proname::text COLLATE "default" FROM pg_proc p
       WHERE p.pronamespace = 'security'::regnamespace AND p.prosecdef
         AND has_function_privilege('security_app', p.oid, 'EXECUTE')
       ORDER BY 1$$,
    $$VALUES ('check_login'), ('decrypt_protected'), ('decrypt_protected'), ('encrypt'), ('encrypt'),
             ('log_phi_access'), ('record_failed_login'), ('record_successful_login')$$,
    'security_app can execute exactly check_login, record_failed_login, record_successful_login, log_phi_access, encrypt and decrypt_protected');
SELECT ok(NOT has_function_privilege('security_app', p, 'EXECUTE'), format('security_app cannot execute %s', p))
  FROM unnest(ARRAY['security.unlock_account(text,text)', 'security.lock_account(text,text,text,timestamptz)',
                    'security.block_ip(cidr,text,timestamptz)', 'security.unblock_ip(cidr,text)',
                    'security.resolve_event(bigint,text,text)', 'security.claim_notifications(integer)',
                    'security.mark_notification_sent(bigint)']) AS p;
SELECT ok(has_function_privilege('security_admin', p, 'EXECUTE'), format('security_admin can execute %s', p))
  FROM unnest(ARRAY['security.unlock_account(text,text)', 'security.lock_account(text,text,text,timestamptz)',
                    'security.block_ip(cidr,text,timestamptz)', 'security.unblock_ip(cidr,text)',
                    'security.resolve_event(bigint,text,text)', 'security.claim_notifications(integer)',
                    'security.mark_notification_sent(bigint)']) AS p;

-- ---------------------------------------------------------------------------------
-- The verdict type
SELECT has_composite('security', 'login_verdict', 'type security.login_verdict exists');
SELECT results_eq(
    $$SELECT a.attname::text COLLATE "default", format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
       WHERE a.attrelid = 'security.login_verdict'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       ORDER BY a.attnum$$,
    $$VALUES ('allowed', 'boolean'), ('reason', 'text'), ('locked_until', 'timestamp with time zone'),
             ('captcha_required', 'boolean'), ('failed_attempts', 'integer')$$,
    'login_verdict is (allowed boolean, reason text, locked_until timestamptz, captcha_required boolean, failed_attempts integer)');

-- ---------------------------------------------------------------------------------
-- The lockout, in this one transaction (one clock reading).
SELECT results_eq(
    $$SELECT allowed, reason, locked_until, captcha_required, failed_attempts
        FROM security.check_login('tap-lock@example.com', '203.0.113.201')$$,
    $$VALUES (true, 'ok', NULL::timestamptz, false, 0)$$,
    'a fresh account is allowed, without CAPTCHA, with nothing counted');
SELECT lives_ok(
    $$SELECT security.record_failed_login('tap-lock@example.com', '203.0.113.201', 'tap') FROM generate_series(1, 2)$$,
    'two failed logins are recorded');
SELECT results_eq(
    $$SELECT allowed, reason, captcha_required, failed_attempts
        FROM security.record_failed_login('TAP-Lock@example.com ', '203.0.113.201')$$,
    $$VALUES (true, 'ok', true, 3)$$,
    'the 3rd failure (email trimmed and lower-cased) is still allowed but requires a CAPTCHA');
SELECT results_eq(
    $$SELECT allowed, reason, failed_attempts FROM security.record_failed_login('tap-lock@example.com', '203.0.113.201')$$,
    $$VALUES (true, 'ok', 4)$$,
    'the 4th failure is allowed');
CREATE TEMP TABLE tap_locking ON COMMIT DROP AS
    SELECT * FROM security.record_failed_login('tap-lock@example.com', '203.0.113.201');
SELECT results_eq(
    $$SELECT allowed, reason, locked_until - security.now(), failed_attempts FROM tap_locking$$,
    $$VALUES (false, 'account_locked', interval '30 min', 5)$$,
    'the 5th failure within 15 minutes locks the account for 30 minutes and reports 5 failures');
SELECT is((SELECT captcha_required FROM tap_locking), true,
          'the locking verdict requires a CAPTCHA (5 failures are at least captcha_after)');
SELECT is((SELECT count(*)::int FROM security.account_lockouts
            WHERE email = 'tap-lock@example.com' AND unlocked_at IS NULL AND locked_until > security.now()),
          1, 'exactly one active lockout');
SELECT results_eq(
    $$SELECT lockout_reason, locked_by, attempt_count, ip_address FROM security.account_lockouts
       WHERE email = 'tap-lock@example.com'$$,
    $$VALUES ('brute_force', 'vitaluxe_security', 5, '203.0.113.201'::inet)$$,
    'the lockout says brute_force, by the extension, 5 attempts, from the source address');
SELECT results_eq(
    $$SELECT event_type, severity, priority, attempt_count FROM security.security_events
       WHERE email = 'tap-lock@example.com'$$,
    $$VALUES ('brute_force', 'critical', 'P0', 5)$$,
    'exactly one brute_force event, critical, P0');
SELECT is((SELECT array_agg(n.recipient_role ORDER BY n.recipient_role)
             FROM security.notifications n JOIN security.security_events e ON e.id = n.event_id
            WHERE e.email = 'tap-lock@example.com'),
          (SELECT notify_roles FROM security.severity_levels WHERE severity = 'critical' ORDER BY 1),
          'the event queued one notification per role of its severity');
SELECT results_eq(
    $$SELECT allowed, reason, locked_until - security.now() FROM security.check_login('tap-lock@example.com', '203.0.113.201')$$,
    $$VALUES (false, 'account_locked', interval '30 min')$$,
    'check_login denies the locked account until the lockout ends');
SELECT throws_ok(
    $$SELECT security.record_successful_login('tap-lock@example.com', '203.0.113.201')$$,
    '28000', 'login refused: account_locked',
    'record_successful_login is refused with 28000 while the account is locked');
SELECT results_eq(
    $$SELECT reason, failed_attempts FROM security.record_failed_login('tap-lock@example.com', '203.0.113.201')$$,
    $$VALUES ('account_locked', 0)$$,
    'a failure during the lockout is denied and does not count');
SELECT is((SELECT count(*)::int FROM security.failed_login_attempts WHERE email = 'tap-lock@example.com'),
          6, 'every attempt is recorded, the one during the lockout included');
SELECT is((SELECT count(*)::int FROM security.failed_login_attempts WHERE email = 'tap-lock@example.com' AND during_lockout),
          1, 'the attempt during the lockout is marked during_lockout');
SELECT is((SELECT locked_until - locked_at FROM security.account_lockouts WHERE email = 'tap-lock@example.com'),
          interval '30 min', 'a failure during the lockout does not extend it');
SELECT is((SELECT count(*)::int FROM security.security_events WHERE email = 'tap-lock@example.com'),
          1, 'a failure during the lockout raises no second event');
SELECT is((SELECT status FROM security.account_security WHERE email = 'tap-lock@example.com'),
          'active', 'Account Security shows the lockout as active');

-- Time travel: the lockout ends by itself at locked_until.
SET LOCAL vitaluxe_security.clock_offset = '29 min 59 s';
SELECT is((SELECT reason FROM security.check_login('tap-lock@example.com', '203.0.113.201')),
          'account_locked', 'one second before locked_until the account is still locked');
SET LOCAL vitaluxe_security.clock_offset = '30 min';
SELECT results_eq(
    $$SELECT allowed, reason, failed_attempts FROM security.check_login('tap-lock@example.com', '203.0.113.201')$$,
    $$VALUES (true, 'ok', 0)$$,
    'at locked_until the lockout has ended by itself, with nothing counted');
SELECT is((SELECT status FROM security.account_security WHERE email = 'tap-lock@example.com'),
          'expired', 'Account Security shows the lockout as expired');
SELECT results_eq(
    $$SELECT allowed, failed_attempts FROM security.record_failed_login('tap-lock@example.com', '203.0.113.201')$$,
    $$VALUES (true, 1)$$,
    'after the lockout counting starts fresh');
SELECT isnt(security.record_successful_login('tap-lock@example.com', '203.0.113.201'), NULL,
            'after the lockout a successful login returns a session id');
SELECT is((SELECT count(*)::int FROM security.active_sessions WHERE email = 'tap-lock@example.com'),
          1, 'the successful login started a session');
SELECT is((SELECT failed_attempts FROM security.check_login('tap-lock@example.com', '203.0.113.201')),
          0, 'a successful login resets the count');
RESET vitaluxe_security.clock_offset;

-- A successful login resets the count: 4 + success + 4 does not lock.
SELECT lives_ok(
    $$SELECT security.record_failed_login('tap-reset@example.com', '203.0.113.202') FROM generate_series(1, 4)$$,
    'four failures');
SELECT lives_ok($$SELECT security.record_successful_login('tap-reset@example.com', '203.0.113.202')$$,
                'then a successful login');
SELECT lives_ok(
    $$SELECT security.record_failed_login('tap-reset@example.com', '203.0.113.202') FROM generate_series(1, 4)$$,
    'then four more failures');
SELECT results_eq(
    $$SELECT allowed, failed_attempts FROM security.check_login('tap-reset@example.com', '203.0.113.202')$$,
    $$VALUES (true, 4)$$,
    'the failures before the successful login no longer count');

-- An admin unlock starts the count afresh and watches the account.
SELECT lives_ok(
    $$SELECT security.record_failed_login('tap-unlock@example.com', '203.0.113.203') FROM generate_series(1, 5)$$,
    'five failures lock tap-unlock');
SELECT is(security.unlock_account('tap-unlock@example.com', 'verified'), 1, 'unlock_account ends one lockout');
SELECT is(security.unlock_account('tap-unlock@example.com', 'verified'), 0, 'unlocking again ends none');
SELECT results_eq(
    $$SELECT allowed, failed_attempts FROM security.record_failed_login('tap-unlock@example.com', '203.0.113.203')$$,
    $$VALUES (true, 1)$$,
    'after an admin unlock the count starts afresh');
SELECT is((SELECT count(*)::int FROM security.security_events
            WHERE email = 'tap-unlock@example.com' AND event_type = 'post_unlock_failure'),
          1, 'the first failure after an unlock raises post_unlock_failure');
SELECT is((SELECT count(*)::int FROM security.notifications
            WHERE subject = 'password_reset_requested' AND recipient = 'tap-unlock@example.com'
              AND recipient_role = 'user'),
          1, 'the unlock queued one password_reset_requested notification');

-- ---------------------------------------------------------------------------------
-- Bad input
SELECT throws_ok($$SELECT security.check_login(NULL, '203.0.113.204')$$, '22004', NULL, 'check_login: NULL email is 22004');
SELECT throws_ok($$SELECT security.record_failed_login('', '203.0.113.204')$$, '22023', NULL, 'record_failed_login: empty email is 22023');
SELECT throws_ok($$SELECT security.record_failed_login(repeat('x', 243) || '@example.com', '203.0.113.204')$$,
                 '22023', NULL, 'record_failed_login: an email over 254 characters is 22023');
SELECT throws_ok($$SELECT security.record_failed_login('tap-bad@example.com', NULL)$$, '22004', NULL,
                 'record_failed_login: NULL ip is 22004');
SELECT throws_ok($$SELECT security.lock_account('tap-bad@example.com', 'holiday', 'n')$$, '22023', NULL,
                 'lock_account: an unknown reason is 22023');
SELECT throws_ok($$SELECT security.unlock_account('tap-bad@example.com', '  ')$$, '22023', NULL,
                 'unlock_account: blank notes are 22023');
SELECT throws_ok($$SELECT security.unlock_account('tap-bad@example.com', NULL)$$, '22004', NULL,
                 'unlock_account: NULL notes are 22004');

-- ---------------------------------------------------------------------------------
-- The roles at work
SET LOCAL ROLE security_app;
SELECT lives_ok($$SELECT security.check_login('tap-app@example.com', '203.0.113.205')$$, 'security_app can call check_login');
SELECT lives_ok($$SELECT security.record_failed_login('tap-app@example.com', '203.0.113.205')$$,
                'security_app can call record_failed_login');
SELECT lives_ok($$SELECT security.record_successful_login('tap-app@example.com', '203.0.113.205')$$,
                'security_app can call record_successful_login');
SELECT throws_ok($$SELECT security.unlock_account('tap-app@example.com', 'n')$$, '42501', NULL,
                 'security_app cannot call unlock_account');
SELECT throws_ok($$SELECT count(*) FROM security.failed_login_attempts$$, '42501', NULL,
                 'security_app cannot read failed_login_attempts');
RESET ROLE;
SET LOCAL ROLE security_admin;
SELECT lives_ok($$SELECT security.lock_account('tap-app@example.com', 'manual', 'tap')$$,
                'security_admin can call lock_account');
SELECT throws_ok($$SELECT security.check_login('tap-app@example.com', '203.0.113.205')$$, '42501', NULL,
                 'security_admin is not the application: check_login is refused');
RESET ROLE;
SELECT is((SELECT locked_by FROM security.account_lockouts WHERE email = 'tap-app@example.com'),
          'pgtap', 'the admin action recorded its actor');

SELECT * FROM finish();
ROLLBACK;
