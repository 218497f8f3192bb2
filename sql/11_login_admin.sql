-- The admin actions of SPEC section 1 (unlock_account, lock_account, block_ip,
-- unblock_ip) and the section 2 machinery around events (resolve_event, the notification
-- outbox). Every admin action records its actor.

\i sql/helpers/login_helpers.psql

-- Admin actions are stamped with the actor the application sets.
SET vitaluxe_security.actor = 'regress_admin';

INSERT INTO security.accounts (user_id, email, role)
VALUES ('00000000-0000-4000-8000-00000000b001', 'Admin-Unlock@Example.com', 'prescriber'),
       ('00000000-0000-4000-8000-00000000b002', 'admin-lock@example.com', 'pharmacy');

-- ============================================================================
-- 1. unlock_account: ends the lockout, starts the count afresh, recommends MFA, asks for
--    a password reset, watches the account.
-- ============================================================================
SELECT pg_temp.fail('admin-unlock@example.com', '198.51.100.110', 5);
SELECT pg_temp.check('admin-unlock@example.com', '198.51.100.110');
-- Unlock, with the email spelled differently: one lockout ended.
SELECT security.unlock_account('  ADMIN-UNLOCK@example.com ', 'identity verified by phone') AS ended;
SELECT pg_temp.check('admin-unlock@example.com', '198.51.100.110');
SELECT email, status, security.now() - unlocked_at < interval '1 min' AS unlocked_now,
       unlocked_by, notes LIKE '%identity verified by phone' AS notes_kept, remaining
  FROM security.account_security WHERE email = 'admin-unlock@example.com';
-- The account: MFA recommended, watched for 24 hours (unlock_monitor_duration).
SELECT email, mfa_recommended, round(extract(epoch FROM monitor_until - security.now()) / 3600) AS monitor_hours
  FROM security.accounts WHERE user_id = '00000000-0000-4000-8000-00000000b001';
-- A password reset is queued for the user.
SELECT channel, recipient_role, recipient, subject, payload->>'type' AS type,
       payload->>'lockouts_ended' AS lockouts_ended, payload->>'requested_by' AS requested_by,
       payload->>'user_id' AS user_id, sent_at
  FROM security.notifications
 WHERE subject = 'password_reset_requested' AND recipient = 'admin-unlock@example.com';
-- Unlocking an account that is not locked changes nothing: 0 and a NOTICE.
SELECT security.unlock_account('admin-unlock@example.com', 'again') AS ended;
SELECT count(*) AS reset_notifications FROM security.notifications
 WHERE subject = 'password_reset_requested' AND recipient = 'admin-unlock@example.com';

-- The count starts afresh: four failures after the unlock do not lock ...
SELECT pg_temp.fail('admin-unlock@example.com', '198.51.100.110', 4);
-- ... and the first of them raised post_unlock_failure (high, P1), once.
SELECT event_type, severity, priority, email, user_id, ip_address, attempt_count
  FROM security.security_events
 WHERE email = 'admin-unlock@example.com' AND event_type = 'post_unlock_failure';
SELECT n.recipient_role, n.subject LIKE '[P1] post_unlock_failure: %' AS subject_ok
  FROM security.notifications n JOIN security.security_events e ON e.id = n.event_id
 WHERE e.email = 'admin-unlock@example.com' AND e.event_type = 'post_unlock_failure';
-- The fifth locks again (a repeat lockout; backoff is off: 30 minutes).
SELECT pg_temp.fail('admin-unlock@example.com', '198.51.100.110');
SELECT event_type, count(*) FROM security.security_events
 WHERE email = 'admin-unlock@example.com' GROUP BY event_type ORDER BY event_type;
-- A second unlock watches the account again: its next failure alerts again.
SELECT security.unlock_account('admin-unlock@example.com', 'second call with the user') AS ended;
SELECT pg_temp.fail('admin-unlock@example.com', '198.51.100.110');
SELECT count(*) AS post_unlock_events FROM security.security_events
 WHERE email = 'admin-unlock@example.com' AND event_type = 'post_unlock_failure';

-- The watch ends after unlock_monitor_duration: a failure 25 hours after an unlock
-- raises nothing.
SELECT pg_temp.fail('admin-watch@example.com', '198.51.100.111', 5);
SELECT security.unlock_account('admin-watch@example.com', 'verified') AS ended;
SET vitaluxe_security.clock_offset = '25 hours';
SELECT pg_temp.fail('admin-watch@example.com', '198.51.100.111');
RESET vitaluxe_security.clock_offset;
SELECT count(*) AS post_unlock_events FROM security.security_events
 WHERE email = 'admin-watch@example.com' AND event_type = 'post_unlock_failure';
-- The unknown email has no directory row; its reset notification is still queued.
SELECT count(*) AS reset_notifications FROM security.notifications
 WHERE subject = 'password_reset_requested' AND recipient = 'admin-watch@example.com';

-- Unlocking an expired lockout: nothing active, nothing ended.
SELECT pg_temp.fail('admin-expired@example.com', '198.51.100.112', 5);
SET vitaluxe_security.clock_offset = '31 min';
SELECT security.unlock_account('admin-expired@example.com', 'too late') AS ended;
SELECT status FROM security.account_security WHERE email = 'admin-expired@example.com';
RESET vitaluxe_security.clock_offset;

-- ============================================================================
-- 2. lock_account: a manual lock, until unlocked or until a time; it supersedes the active
--    lockout and ends the account's sessions.
-- ============================================================================
SELECT security.record_successful_login('admin-lock@example.com', '198.51.100.120') IS NOT NULL AS session_started;
SELECT security.lock_account('Admin-Lock@Example.com', 'manual', 'reported stolen laptop') > 0 AS locked;
SELECT pg_temp.check('admin-lock@example.com', '198.51.100.120');
SELECT email, user_id, status, lockout_reason, locked_until, locked_by, notes, remaining, attempt_count
  FROM security.account_security WHERE email = 'admin-lock@example.com';
-- Its sessions were ended.
SELECT count(*) AS sessions, count(*) FILTER (WHERE ended_at IS NOT NULL AND end_reason = 'terminated') AS terminated
  FROM security.active_sessions WHERE email = 'admin-lock@example.com';
-- Logging in is refused; failures are recorded during the lock and do not count.
SELECT pg_temp.outcome($$security.record_successful_login('admin-lock@example.com', '198.51.100.120')$$);
SELECT pg_temp.fail('admin-lock@example.com', '198.51.100.120', 6);
SELECT count(*) FILTER (WHERE during_lockout) AS during_lockout, count(*) AS attempts
  FROM security.failed_login_attempts WHERE email = 'admin-lock@example.com';
SELECT count(*) AS brute_force_events FROM security.security_events
 WHERE email = 'admin-lock@example.com' AND event_type = 'brute_force';
-- A lock without an end does not expire.
SET vitaluxe_security.clock_offset = '30 days';
SELECT pg_temp.check('admin-lock@example.com', '198.51.100.120');
RESET vitaluxe_security.clock_offset;
-- A new lock supersedes the active one: one active lockout, until the given time.
SELECT security.lock_account('admin-lock@example.com', 'suspicious_activity', 'odd orders',
                             security.now() + interval '1 hour') > 0 AS locked;
SELECT lockout_reason, status, unlocked_by, notes, round(extract(epoch FROM remaining) / 60) AS remaining_min
  FROM security.account_security WHERE email = 'admin-lock@example.com' ORDER BY locked_at, id;
SELECT pg_temp.check('admin-lock@example.com', '198.51.100.120');
-- It ends at that time by itself.
SET vitaluxe_security.clock_offset = '61 min';
SELECT pg_temp.check('admin-lock@example.com', '198.51.100.120');
SELECT lockout_reason, status FROM security.account_security
 WHERE email = 'admin-lock@example.com' ORDER BY locked_at, id;
-- Counting starts fresh after it.
SELECT pg_temp.fail('admin-lock@example.com', '198.51.100.120');
RESET vitaluxe_security.clock_offset;
-- Every reason of account_lockouts is accepted; a manual lock over a brute-force lockout
-- supersedes it too.
SELECT pg_temp.fail('admin-reasons@example.com', '198.51.100.121', 5);
SELECT security.lock_account('admin-reasons@example.com', r, 'reason ' || r) > 0 AS locked
  FROM unnest(ARRAY['manual', 'verification_required', 'emergency_lockdown', 'suspicious_activity', 'brute_force']) r;
SELECT lockout_reason, status, locked_by FROM security.account_security
 WHERE email = 'admin-reasons@example.com' ORDER BY locked_at, id;
-- unlock_account ends the (one) active lockout.
SELECT security.unlock_account('admin-reasons@example.com', 'all clear') AS ended;
SELECT count(*) FILTER (WHERE status = 'active') AS active FROM security.account_security
 WHERE email = 'admin-reasons@example.com';
SELECT pg_temp.check('admin-reasons@example.com', '198.51.100.121');

-- ============================================================================
-- 3. block_ip / unblock_ip: networks, by containment.
-- ============================================================================
SELECT security.block_ip('192.0.2.0/24', 'credential stuffing source') > 0 AS blocked;
SELECT pg_temp.check('admin-net@example.com', '192.0.2.77');
SELECT pg_temp.check('admin-net@example.com', '192.0.3.1');
SELECT pg_temp.outcome($$security.record_successful_login('admin-net@example.com', '192.0.2.77')$$);
-- Failures from a blocked network are still recorded.
SELECT pg_temp.fail('admin-net@example.com', '192.0.2.78');
SELECT count(*) AS attempts FROM security.failed_login_attempts WHERE email = 'admin-net@example.com';
SELECT network, reason, blocked_by, blocked_until, unblocked_at FROM security.blocked_ips WHERE network = '192.0.2.0/24';
-- The brute force view shows the address as blocked: nothing more to do.
SELECT ip_address, blocked, recommended_action FROM security.brute_force_attacks WHERE ip_address = '192.0.2.78';
-- A single address (a /32) and an IPv6 network.
SELECT security.block_ip('198.51.100.199', 'one host') > 0 AS blocked;
SELECT security.block_ip('2001:db8:bad::/48', 'v6 range') > 0 AS blocked;
SELECT pg_temp.check('admin-net@example.com', '198.51.100.199') AS host,
       pg_temp.check('admin-net@example.com', '198.51.100.198') AS neighbour,
       pg_temp.check('admin-net@example.com', '2001:db8:bad:1::5') AS v6_inside,
       pg_temp.check('admin-net@example.com', '2001:db8:bad0::5') AS v6_outside;
-- Unblocking names the network exactly and needs notes.
SELECT security.unblock_ip('192.0.2.0/24', 'provider fixed it') AS ended;
SELECT pg_temp.check('admin-net@example.com', '192.0.2.77');
SELECT network, unblocked_by, notes FROM security.blocked_ips WHERE network = '192.0.2.0/24';
SELECT security.unblock_ip('192.0.2.0/24', 'again') AS ended;
SELECT security.unblock_ip('198.51.100.0/24', 'a containing network is not the block') AS ended;
SELECT pg_temp.check('admin-net@example.com', '198.51.100.199');
SELECT security.unblock_ip('198.51.100.199/32', 'done') AS ended, security.unblock_ip('2001:db8:bad::/48', 'done') AS ended_v6;
SELECT pg_temp.check('admin-net@example.com', '198.51.100.199');
-- A block with an end stops by itself.
SELECT security.block_ip('192.0.2.128/25', 'ten minutes', security.now() + interval '10 min') > 0 AS blocked;
SELECT pg_temp.check('admin-net@example.com', '192.0.2.200');
SET vitaluxe_security.clock_offset = '11 min';
SELECT pg_temp.check('admin-net@example.com', '192.0.2.200');
RESET vitaluxe_security.clock_offset;
-- Each check judges a block by its own clock: a check made later (clock_offset) must not
-- make a block disappear for the checks after it when the clock is set back.
SELECT security.block_ip('192.0.5.0/24', 'twenty minutes', security.now() + interval '20 min') > 0 AS blocked;
SET vitaluxe_security.clock_offset = '30 min';
SELECT security.block_ip('192.0.6.0/24', 'another block') > 0 AS blocked;
SELECT pg_temp.check('admin-net@example.com', '192.0.5.9') AS at_30_min;
RESET vitaluxe_security.clock_offset;
SELECT pg_temp.check('admin-net@example.com', '192.0.5.9') AS back_at_0;
SELECT security.unblock_ip('192.0.5.0/24', 'done') AS ended, security.unblock_ip('192.0.6.0/24', 'done') AS ended_too;
-- A blocked address and a locked account: the block is reported.
SELECT pg_temp.fail('admin-both@example.com', '198.51.100.130', 5);
SELECT security.block_ip('198.51.100.130', 'both') > 0 AS blocked;
SELECT pg_temp.check('admin-both@example.com', '198.51.100.130');
SELECT security.unblock_ip('198.51.100.130', 'done') AS ended;

-- ============================================================================
-- 4. resolve_event: a disposition, notes and the actor.
-- ============================================================================
SELECT id AS event_id FROM security.security_events
 WHERE email = 'admin-watch@example.com' AND event_type = 'brute_force' \gset
SELECT security.resolve_event(:event_id, 'false_positive', 'the user forgot the password');
SELECT event_type, status, disposition, notes, resolved_by, resolved_at IS NOT NULL AS resolved_at_set
  FROM security.security_events WHERE id = :event_id;
SELECT status, disposition FROM security.security_events_tab WHERE id = :event_id;
-- Every disposition is accepted; notes may be left out.
SELECT security.resolve_event(id, d, NULL)
  FROM security.security_events, unnest(ARRAY['legitimate', 'unauthorized', 'resolved']) d
 WHERE id = :event_id;
SELECT status, disposition, notes FROM security.security_events WHERE id = :event_id;

-- ============================================================================
-- 5. The notification outbox: claim (oldest first, each row once), mark sent.
-- ============================================================================
-- Nothing of it was sent yet; claim two: the two oldest.
SELECT array_agg(id ORDER BY created_at, id) AS oldest_two FROM
  (SELECT id, created_at FROM security.notifications WHERE sent_at IS NULL ORDER BY created_at, id LIMIT 2) o \gset
SELECT array_agg(id) = :'oldest_two'::bigint[] AS got_oldest_two, count(*) AS claimed,
       bool_and(attempts = 1) AS first_attempt
  FROM security.claim_notifications(2);
-- A claimed row is not handed out again (for 5 minutes); the rest is.
SELECT count(*) AS unsent_unclaimed FROM security.notifications WHERE sent_at IS NULL AND claimed_at IS NULL \gset
SELECT count(*) = :unsent_unclaimed AS claimed_the_rest, bool_and(NOT (id = ANY (:'oldest_two'::bigint[]))) AS none_twice
  FROM security.claim_notifications(10000);
SELECT count(*) AS claimed_again FROM security.claim_notifications(10000);
-- Marking sent: true once, then false.
SELECT security.mark_notification_sent((:'oldest_two'::bigint[])[1]) AS first,
       security.mark_notification_sent((:'oldest_two'::bigint[])[1]) AS second;
SELECT sent_at IS NOT NULL AS sent FROM security.notifications WHERE id = (:'oldest_two'::bigint[])[1];
-- A claim the mailer did not confirm within 5 minutes is handed out again; a sent one
-- never is.
SET vitaluxe_security.clock_offset = '6 min';
SELECT count(*) > 0 AS reclaimed, bool_and(attempts = 2) AS second_attempt,
       bool_and(id <> (:'oldest_two'::bigint[])[1]) AS sent_not_reclaimed
  FROM security.claim_notifications(10000);
RESET vitaluxe_security.clock_offset;

RESET vitaluxe_security.actor;
