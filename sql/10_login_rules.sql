-- The login rules of SPEC section 1, through the three functions the application calls:
-- security.check_login, security.record_failed_login, security.record_successful_login.
-- Every window and expiry is crossed with the extension's clock
-- (vitaluxe_security.clock_offset), never by sleeping. Each scenario uses emails and
-- addresses of its own, so the scenarios (and the other test files) do not interfere.

\i sql/helpers/login_helpers.psql

-- ============================================================================
-- 1. Five failures within 15 minutes lock for 30 minutes (an unknown email).
-- ============================================================================
-- A fresh account is allowed, no CAPTCHA, nothing counted; check_login records nothing.
SELECT pg_temp.check('rules-basic@example.com', '198.51.100.10');
SELECT count(*) AS attempts FROM security.failed_login_attempts WHERE email = 'rules-basic@example.com';

-- The defaults the rules below rely on (the settings exist once the library is loaded,
-- which the first call above did).
SELECT current_setting('vitaluxe_security.lockout_threshold') AS threshold,
       current_setting('vitaluxe_security.lockout_window') AS window_s,
       current_setting('vitaluxe_security.lockout_duration') AS duration_s,
       current_setting('vitaluxe_security.captcha_after') AS captcha_after,
       current_setting('vitaluxe_security.ip_account_threshold') AS ip_accounts,
       current_setting('vitaluxe_security.lockout_backoff') AS backoff,
       current_setting('vitaluxe_security.unlock_monitor_duration') AS monitor_s;

-- Failures 1 and 2: allowed; from the 3rd a CAPTCHA is required.
SELECT v.allowed, v.reason, v.locked_until, v.captcha_required, v.failed_attempts
  FROM security.record_failed_login('rules-basic@example.com', '198.51.100.10', 'agent/1.0') v;
SELECT pg_temp.fail('rules-basic@example.com', '198.51.100.10');
SELECT pg_temp.fail('rules-basic@example.com', '198.51.100.10');
SELECT pg_temp.check('rules-basic@example.com', '198.51.100.10');
SELECT pg_temp.fail('rules-basic@example.com', '198.51.100.10');

-- The 5th failure locks: the verdict of the locking call says denied, account_locked,
-- 30 minutes, CAPTCHA (5 failures are more than captcha_after) and failed_attempts 5.
SELECT pg_temp.fail('rules-basic@example.com', '198.51.100.10');

-- check_login now denies, with the lockout's end.
SELECT pg_temp.check('rules-basic@example.com', '198.51.100.10');

-- One lockout row: brute_force, by the extension, 30 minutes, 5 attempts, the source
-- address, no user_id (the email is not in security.accounts).
SELECT email, user_id, lockout_reason, locked_until - locked_at AS duration, ip_address,
       attempt_count, locked_by, unlocked_at, unlocked_by
  FROM security.account_lockouts WHERE email = 'rules-basic@example.com';

-- One brute_force event, critical, P0, with its notifications for the severity's roles.
SELECT event_type, severity, priority, email, ip_address, attempt_count, status,
       details ?& ARRAY['lockout_id', 'threshold', 'window_seconds', 'locked_seconds'] AS has_details,
       details->>'threshold' AS threshold, details->>'locked_seconds' AS locked_seconds
  FROM security.security_events WHERE email = 'rules-basic@example.com';
SELECT n.recipient_role, n.recipient, n.channel, n.subject LIKE '[P0] brute_force: security event #%' AS subject_ok,
       n.payload->>'event_type' AS payload_type, n.payload->>'priority' AS payload_priority,
       n.payload ? 'email' AS payload_has_email, n.sent_at IS NULL AS unsent
  FROM security.notifications n JOIN security.security_events e ON e.id = n.event_id
 WHERE e.email = 'rules-basic@example.com'
 ORDER BY n.recipient_role;
SELECT roles FROM (SELECT notify_roles AS roles FROM security.severity_levels WHERE severity = 'critical') s;

-- Failures while locked are recorded (during_lockout), still denied, and neither extend
-- the lockout nor raise another event.
SELECT locked_until AS first_until FROM security.account_lockouts
 WHERE email = 'rules-basic@example.com' \gset
SELECT pg_temp.fail('rules-basic@example.com', '198.51.100.10', 3);
SELECT count(*) AS lockouts, bool_and(locked_until = :'first_until') AS until_unchanged
  FROM security.account_lockouts WHERE email = 'rules-basic@example.com';
SELECT count(*) AS brute_force_events FROM security.security_events
 WHERE email = 'rules-basic@example.com' AND event_type = 'brute_force';
SELECT during_lockout, count(*), bool_and(source = 'app') AS from_app,
       bool_and(ip_address = '198.51.100.10') AS ip_kept
  FROM security.failed_login_attempts WHERE email = 'rules-basic@example.com'
 GROUP BY during_lockout ORDER BY during_lockout;
SELECT user_agent, count(*) FROM security.failed_login_attempts
 WHERE email = 'rules-basic@example.com' GROUP BY user_agent ORDER BY user_agent;

-- A locked account cannot log in: 28000.
SELECT pg_temp.outcome($$security.record_successful_login('rules-basic@example.com', '198.51.100.10')$$);

-- The Account Security tab: active, 30 minutes remaining.
SELECT email, status, lockout_reason, ip_address, attempt_count,
       round(extract(epoch FROM remaining) / 60) AS remaining_min
  FROM security.account_security WHERE email = 'rules-basic@example.com';

-- 29 minutes later it is still locked; 31 minutes later the lockout has ended by itself
-- (no job ran): allowed, and the failures made during the lockout did not count.
SET vitaluxe_security.clock_offset = '29 min';
SELECT pg_temp.check('rules-basic@example.com', '198.51.100.10');
SET vitaluxe_security.clock_offset = '31 min';
SELECT pg_temp.check('rules-basic@example.com', '198.51.100.10');
SELECT email, status, remaining FROM security.account_security WHERE email = 'rules-basic@example.com';
-- Counting starts fresh after the lockout: the next failure is number 1.
SELECT pg_temp.fail('rules-basic@example.com', '198.51.100.10');
-- and it takes five new ones to lock again.
SELECT pg_temp.fail('rules-basic@example.com', '198.51.100.10', 4);
SELECT count(*) AS lockouts, count(*) FILTER (WHERE locked_until > security.now()) AS active
  FROM security.account_lockouts WHERE email = 'rules-basic@example.com';
RESET vitaluxe_security.clock_offset;

-- ============================================================================
-- 2. The window: only failures within lockout_window (15 min) count.
-- ============================================================================
-- Four failures, then a fifth 16 minutes later: the four left the window.
SELECT pg_temp.fail('rules-window-a@example.com', '198.51.100.20', 4);
SET vitaluxe_security.clock_offset = '16 min';
SELECT pg_temp.fail('rules-window-a@example.com', '198.51.100.20');
SELECT pg_temp.check('rules-window-a@example.com', '198.51.100.20');
RESET vitaluxe_security.clock_offset;
SELECT count(*) AS lockouts FROM security.account_lockouts WHERE email = 'rules-window-a@example.com';
-- Three failures, then two more 14 minutes later: five within 15 minutes lock.
SELECT pg_temp.fail('rules-window-b@example.com', '198.51.100.21', 3);
SET vitaluxe_security.clock_offset = '14 min';
SELECT pg_temp.fail('rules-window-b@example.com', '198.51.100.21', 2);
RESET vitaluxe_security.clock_offset;
SELECT lockout_reason, attempt_count FROM security.account_lockouts WHERE email = 'rules-window-b@example.com';
-- The count check_login reports also follows the window.
SELECT pg_temp.fail('rules-window-c@example.com', '198.51.100.22', 3);
SET vitaluxe_security.clock_offset = '10 min';
SELECT pg_temp.check('rules-window-c@example.com', '198.51.100.22');
SET vitaluxe_security.clock_offset = '16 min';
SELECT pg_temp.check('rules-window-c@example.com', '198.51.100.22');
RESET vitaluxe_security.clock_offset;

-- ============================================================================
-- 3. A successful login resets the count.
-- ============================================================================
SELECT pg_temp.fail('rules-reset@example.com', '198.51.100.30', 4);
SELECT security.record_successful_login('rules-reset@example.com', '198.51.100.30', 'agent/2.0') IS NOT NULL AS got_session;
-- The session exists.
SELECT email, ip_address, user_agent, security.now() - started_at < interval '1 min' AS started_now, ended_at
  FROM security.active_sessions WHERE email = 'rules-reset@example.com';
-- Nothing counted any more: no CAPTCHA.
SELECT pg_temp.check('rules-reset@example.com', '198.51.100.30');
-- Four more failures do not lock (the four before the success no longer count) ...
SELECT pg_temp.fail('rules-reset@example.com', '198.51.100.30', 4);
SELECT count(*) AS lockouts FROM security.account_lockouts WHERE email = 'rules-reset@example.com';
-- ... the fifth after the success does.
SELECT pg_temp.fail('rules-reset@example.com', '198.51.100.30');
-- Every attempt was recorded, before and after the success.
SELECT count(*) AS attempts FROM security.failed_login_attempts WHERE email = 'rules-reset@example.com';
-- Each success starts a new session.
SET vitaluxe_security.clock_offset = '31 min';
SELECT security.record_successful_login('rules-reset@example.com', '198.51.100.30') IS NOT NULL AS got_session;
RESET vitaluxe_security.clock_offset;
SELECT count(DISTINCT session_id) AS sessions FROM security.active_sessions WHERE email = 'rules-reset@example.com';

-- ============================================================================
-- 4. Emails are trimmed and compared case-insensitively; known and unknown emails
--    count alike.
-- ============================================================================
INSERT INTO security.accounts (user_id, email, role)
VALUES ('00000000-0000-4000-8000-00000000a010', 'Rules-Known@Example.com', 'prescriber');
SELECT pg_temp.fail('rules-known@example.com', '198.51.100.40');
SELECT pg_temp.fail('  RULES-KNOWN@example.com', '198.51.100.40');
SELECT pg_temp.fail(E'Rules-Known@Example.COM \t', '198.51.100.40');
SELECT pg_temp.fail('rules-known@EXAMPLE.com', '198.51.100.40');
SELECT pg_temp.fail(' rules-known@example.com ', '198.51.100.40');
-- One account: every attempt stored under the normalized email; the lockout and the event
-- carry the account's user_id.
SELECT email, count(*) FROM security.failed_login_attempts
 WHERE lower(btrim(email)) = 'rules-known@example.com' GROUP BY email;
SELECT email, user_id, lockout_reason, attempt_count FROM security.account_lockouts
 WHERE lower(email) = 'rules-known@example.com';
SELECT event_type, email, user_id FROM security.security_events
 WHERE lower(email) = 'rules-known@example.com';
SELECT pg_temp.check('RULES-KNOWN@EXAMPLE.COM', '198.51.100.40');
-- Case-insensitive beyond ASCII: an internationalized address (RFC 6531) spelled in
-- upper case is the same account as in lower case, and it is counted, never refused.
SELECT pg_temp.fail('JÖRG-Rules@Example.com', '198.51.100.41');
SELECT pg_temp.fail('jörg-rules@example.com', '198.51.100.41');
SELECT pg_temp.check('JÖRG-RULES@EXAMPLE.COM', '198.51.100.41');
SELECT email, count(*) FROM security.failed_login_attempts WHERE ip_address = '198.51.100.41' GROUP BY email;
-- The unknown email of scenario 1 was locked the same way, with the same five failures.
SELECT (SELECT attempt_count FROM security.account_lockouts WHERE email = 'rules-basic@example.com'
         ORDER BY locked_at LIMIT 1) AS unknown_email_attempts,
       (SELECT attempt_count FROM security.account_lockouts WHERE email = 'rules-known@example.com') AS known_email_attempts;

-- ============================================================================
-- 5. One IP against three accounts within the window: one ip_multi_account event
--    per episode.
-- ============================================================================
SELECT pg_temp.fail('rules-spray-1@example.com', '203.0.113.50');
SELECT pg_temp.fail('rules-spray-2@example.com', '203.0.113.50');
-- Two accounts (and repeated failures against them): no event yet.
SELECT pg_temp.fail('rules-spray-2@example.com', '203.0.113.50', 2);
SELECT count(*) AS ip_events FROM security.security_events WHERE ip_address = '203.0.113.50';
-- The third distinct account raises it: critical, P0, no email, the count of accounts.
SELECT pg_temp.fail('rules-spray-3@example.com', '203.0.113.50');
SELECT event_type, severity, priority, email, user_id, ip_address, attempt_count,
       details->>'accounts_targeted' AS accounts_targeted, details->>'recommended_action' AS recommended
  FROM security.security_events WHERE ip_address = '203.0.113.50';
-- The spray goes on (more accounts, 10 minutes later): the same episode, no new event.
SELECT pg_temp.fail('rules-spray-4@example.com', '203.0.113.50');
SET vitaluxe_security.clock_offset = '10 min';
SELECT pg_temp.fail('rules-spray-5@example.com', '203.0.113.50');
SET vitaluxe_security.clock_offset = '20 min';
SELECT pg_temp.fail('rules-spray-1@example.com', '203.0.113.50');
SELECT count(*) AS ip_events FROM security.security_events WHERE ip_address = '203.0.113.50';
-- After a quiet window a new spray is a new episode: one more event at its third account.
SET vitaluxe_security.clock_offset = '40 min';
SELECT pg_temp.fail('rules-spray-6@example.com', '203.0.113.50');
SELECT pg_temp.fail('rules-spray-7@example.com', '203.0.113.50');
SELECT count(*) AS ip_events FROM security.security_events WHERE ip_address = '203.0.113.50';
SELECT pg_temp.fail('rules-spray-8@example.com', '203.0.113.50');
SELECT count(*) AS ip_events FROM security.security_events WHERE ip_address = '203.0.113.50';
-- Accounts spread beyond the window do not add up: three accounts, each failed more than
-- 15 minutes after the previous one, raise nothing.
RESET vitaluxe_security.clock_offset;
SELECT pg_temp.fail('rules-slow-1@example.com', '203.0.113.60');
SET vitaluxe_security.clock_offset = '16 min';
SELECT pg_temp.fail('rules-slow-2@example.com', '203.0.113.60');
SET vitaluxe_security.clock_offset = '32 min';
SELECT pg_temp.fail('rules-slow-3@example.com', '203.0.113.60');
SELECT count(*) AS ip_events FROM security.security_events WHERE ip_address = '203.0.113.60';
RESET vitaluxe_security.clock_offset;
-- A spray does not lock the sprayed accounts (one or two failures each).
SELECT count(*) AS lockouts FROM security.account_lockouts WHERE email LIKE 'rules-spray-%';

-- ============================================================================
-- 6. Progressive lockout (lockout_backoff, superuser): each repeat brute-force lockout
--    within 24 hours lasts duration x backoff^repeats. 1.0 (the default) = off.
-- ============================================================================
SET vitaluxe_security.lockout_backoff = 2;
SELECT pg_temp.fail('rules-backoff@example.com', '198.51.100.50', 5);
SET vitaluxe_security.clock_offset = '31 min';
SELECT pg_temp.fail('rules-backoff@example.com', '198.51.100.50', 5);
SET vitaluxe_security.clock_offset = '92 min';
SELECT pg_temp.fail('rules-backoff@example.com', '198.51.100.50', 5);
-- More than 24 hours after the last lockouts the duration is back to 30 minutes.
SET vitaluxe_security.clock_offset = '27 hours';
SELECT pg_temp.fail('rules-backoff@example.com', '198.51.100.50', 5);
RESET vitaluxe_security.clock_offset;
SELECT locked_until - locked_at AS duration, attempt_count
  FROM security.account_lockouts WHERE email = 'rules-backoff@example.com' ORDER BY locked_at;
SELECT count(*) AS brute_force_events FROM security.security_events
 WHERE email = 'rules-backoff@example.com' AND event_type = 'brute_force';
RESET vitaluxe_security.lockout_backoff;
-- With the default, a repeat lockout lasts 30 minutes again.
SELECT pg_temp.fail('rules-nobackoff@example.com', '198.51.100.51', 5);
SET vitaluxe_security.clock_offset = '31 min';
SELECT pg_temp.fail('rules-nobackoff@example.com', '198.51.100.51', 5);
RESET vitaluxe_security.clock_offset;
SELECT locked_until - locked_at AS duration
  FROM security.account_lockouts WHERE email = 'rules-nobackoff@example.com' ORDER BY locked_at;

-- ============================================================================
-- 7. Emergency lockdown: every non-admin is denied, admins still get in.
-- ============================================================================
INSERT INTO security.accounts (user_id, email, role, is_admin)
VALUES ('00000000-0000-4000-8000-00000000a011', 'rules-admin@example.com', 'admin', true),
       ('00000000-0000-4000-8000-00000000a012', 'rules-staff@example.com', 'prescriber', false);
INSERT INTO security.system_state (app_offline, lockdown_reason) VALUES (true, 'regression test');
SELECT pg_temp.check('rules-staff@example.com', '198.51.100.60');
SELECT pg_temp.check('rules-nobody@example.com', '198.51.100.60');
SELECT pg_temp.check('Rules-Admin@Example.com', '198.51.100.60');
SELECT pg_temp.outcome($$security.record_successful_login('rules-staff@example.com', '198.51.100.60')$$);
SELECT security.record_successful_login('rules-admin@example.com', '198.51.100.60') IS NOT NULL AS admin_got_session;
-- Failures are still recorded during a lockdown.
SELECT pg_temp.fail('rules-staff@example.com', '198.51.100.60');
-- The lockdown ends: everyone is allowed again.
DELETE FROM security.system_state;
SELECT pg_temp.check('rules-staff@example.com', '198.51.100.60');
-- app_offline false is normal operation.
INSERT INTO security.system_state (app_offline) VALUES (false);
SELECT pg_temp.check('rules-staff@example.com', '198.51.100.60');
DELETE FROM security.system_state;

-- ============================================================================
-- 8. What is stored about an attempt; the user agent is bounded.
-- ============================================================================
SELECT pg_temp.show(security.record_failed_login('rules-agent@example.com', '2001:db8::7', repeat('x', 2000)));
SELECT pg_temp.show(security.record_failed_login('rules-agent@example.com', '2001:db8::7'));
SELECT email, ip_address, length(user_agent) AS agent_length, source, during_lockout,
       security.now() - attempted_at < interval '1 min' AS stamped_now
  FROM security.failed_login_attempts WHERE email = 'rules-agent@example.com' ORDER BY id;

-- ============================================================================
-- 9. The Security tab views.
-- ============================================================================
-- Account Security: one row per lockout, status active or expired.
SELECT email, status, lockout_reason, attempt_count, remaining IS NOT NULL AS has_remaining
  FROM security.account_security
 WHERE email IN ('rules-basic@example.com', 'rules-window-b@example.com', 'rules-reset@example.com')
 ORDER BY email, locked_at;
SET vitaluxe_security.clock_offset = '2 hours';
SELECT email, status, remaining FROM security.account_security
 WHERE email IN ('rules-window-b@example.com', 'rules-reset@example.com') ORDER BY email;
RESET vitaluxe_security.clock_offset;

-- Security Events: the events with their state.
SELECT event_type, severity, priority, email, ip_address, attempt_count, status, disposition
  FROM security.security_events_tab
 WHERE email IN ('rules-basic@example.com', 'rules-known@example.com') OR ip_address = '203.0.113.50'
 ORDER BY "timestamp", event_type;

-- Brute force attacks: one row per source address, within the last 24 hours.
SELECT ip_address, accounts_targeted, attempts, duration >= interval '30 min' AS spans_30min, ongoing, blocked,
       recommended_action
  FROM security.brute_force_attacks
 WHERE ip_address IN ('203.0.113.50', '203.0.113.60', '198.51.100.30', '198.51.100.40')
 ORDER BY ip_address;
-- An hour after its last attempt an address is no longer ongoing.
SET vitaluxe_security.clock_offset = '1 hour';
SELECT ip_address, ongoing FROM security.brute_force_attacks WHERE ip_address = '198.51.100.40';
-- After 24 hours an address leaves the view.
SET vitaluxe_security.clock_offset = '25 hours';
SELECT count(*) AS rows_for_ip FROM security.brute_force_attacks WHERE ip_address = '198.51.100.40';
RESET vitaluxe_security.clock_offset;

-- Failed login trends: per address and per day.
SELECT day = security.now()::date AS today, ip_address, attempts, distinct_accounts
  FROM security.failed_login_trends
 WHERE ip_address IN ('198.51.100.30', '198.51.100.40')
 ORDER BY ip_address, day;
