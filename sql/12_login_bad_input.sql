-- Bad input to every public function of the login path, the admin actions and the
-- outbox: each a clear ERROR with its SQLSTATE (22004 null value, 22023 invalid
-- parameter, 22P02 bad text), never an internal error, and the session carries on.

\i sql/helpers/login_helpers.psql

-- Emails: NULL is 22004; empty, blank, longer than 254 characters (after trimming) or
-- with a control character is 22023; exactly 254 characters is fine. Characters, not
-- bytes: 254 characters of which most take two bytes in UTF-8 are fine too.
-- ---- security.check_login(email, ip) -------------------------------------------------
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.check_login(NULL, '198.51.100.200')$$),
    ($$security.check_login('', '198.51.100.200')$$),
    ($$security.check_login('   ', '198.51.100.200')$$),
    ($$security.check_login(repeat('a', 243) || '@example.com', '198.51.100.200')$$),
    ($$security.check_login(E'bad-ctl\x01@example.com', '198.51.100.200')$$),
    ($$security.check_login('bad-ip@example.com', NULL)$$),
    ($$security.check_login('bad-ip@example.com', 'not-an-address')$$),
    ($$security.check_login(repeat('a', 242) || '@example.com', '198.51.100.200')$$),
    ($$security.check_login('  ' || repeat('a', 242) || '@example.com  ', '198.51.100.200')$$),
    ($$security.check_login(repeat('é', 243) || '@example.com', '198.51.100.200')$$),
    ($$security.check_login(repeat('é', 242) || '@example.com', '198.51.100.200')$$)
) t(q);

-- ---- security.record_failed_login(email, ip, user_agent) ------------------------------
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.record_failed_login(NULL, '198.51.100.200')$$),
    ($$security.record_failed_login('', '198.51.100.200')$$),
    ($$security.record_failed_login(E' \t\n ', '198.51.100.200')$$),
    ($$security.record_failed_login(repeat('b', 243) || '@example.com', '198.51.100.200')$$),
    ($$security.record_failed_login('bad-input@example.com', NULL)$$),
    ($$security.record_failed_login('bad-input@example.com', NULL, 'agent')$$),
    ($$security.record_failed_login('bad-input@example.com', '198.51.100.200', NULL)$$)
) t(q);
-- Refused calls recorded nothing; the accepted one was recorded once.
SELECT count(*) AS attempts FROM security.failed_login_attempts
 WHERE email LIKE 'bad-input@%' OR email LIKE 'bbbb%' OR ip_address = '198.51.100.200';

-- ---- security.record_successful_login(email, ip, user_agent) --------------------------
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.record_successful_login(NULL, '198.51.100.200')$$),
    ($$security.record_successful_login('', '198.51.100.200')$$),
    ($$security.record_successful_login(repeat('c', 243) || '@example.com', '198.51.100.200')$$),
    ($$security.record_successful_login('bad-input@example.com', NULL)$$)
) t(q);
SELECT count(*) AS sessions FROM security.active_sessions WHERE ip_address = '198.51.100.200' OR email LIKE 'cccc%';

-- ---- security.unlock_account(email, notes) --------------------------------------------
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.unlock_account(NULL, 'notes')$$),
    ($$security.unlock_account('', 'notes')$$),
    ($$security.unlock_account(repeat('d', 243) || '@example.com', 'notes')$$),
    ($$security.unlock_account('bad-input@example.com', NULL)$$),
    ($$security.unlock_account('bad-input@example.com', '')$$),
    ($$security.unlock_account('bad-input@example.com', E'  \t ')$$)
) t(q);

-- ---- security.lock_account(email, reason, notes, until) -------------------------------
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.lock_account(NULL, 'manual', 'n')$$),
    ($$security.lock_account('', 'manual', 'n')$$),
    ($$security.lock_account('bad-lock@example.com', NULL, 'n')$$),
    ($$security.lock_account('bad-lock@example.com', 'forgot_password', 'n')$$),
    ($$security.lock_account('bad-lock@example.com', '', 'n')$$),
    ($$security.lock_account('bad-lock@example.com', 'MANUAL', 'n')$$),
    ($$security.lock_account('bad-lock@example.com', 'manual', 'n', security.now() - interval '1 min')$$),
    ($$security.lock_account('bad-lock@example.com', 'manual', 'n', 'not a time')$$)
) t(q);
-- None of them locked anything.
SELECT count(*) AS lockouts FROM security.account_lockouts WHERE email = 'bad-lock@example.com';

-- ---- security.block_ip(network, reason, until) / security.unblock_ip(network, notes) ---
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.block_ip(NULL, 'reason')$$),
    ($$security.block_ip('192.0.2.0/24', NULL)$$),
    ($$security.block_ip('192.0.2.0/24', '')$$),
    ($$security.block_ip('192.0.2.0/24', '   ')$$),
    ($$security.block_ip('192.0.2.0/24', 'reason', security.now() - interval '1 min')$$),
    ($$security.block_ip('192.0.2.1/24', 'reason')$$),
    ($$security.block_ip('not-a-network', 'reason')$$),
    ($$security.unblock_ip(NULL, 'notes')$$),
    ($$security.unblock_ip('192.0.2.0/24', NULL)$$),
    ($$security.unblock_ip('192.0.2.0/24', '')$$),
    ($$security.unblock_ip('192.0.2.0/24', ' ')$$)
) t(q);
SELECT count(*) AS blocks FROM security.blocked_ips WHERE network = '192.0.2.0/24' AND unblocked_at IS NULL;

-- ---- security.resolve_event(id, disposition, notes) -----------------------------------
-- An event of this file's own to resolve: a brute force on bad-event@example.com.
SELECT count(*) AS failures
  FROM generate_series(1, 5) n, LATERAL security.record_failed_login('bad-event@example.com', '198.51.100.201', 'n' || n) v;
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.resolve_event(NULL, 'resolved', 'n')$$),
    ($$security.resolve_event(-42, 'resolved', 'n')$$),
    ($$security.resolve_event((SELECT id FROM security.security_events WHERE email = 'bad-event@example.com'), 'maybe', 'n')$$),
    ($$security.resolve_event((SELECT id FROM security.security_events WHERE email = 'bad-event@example.com'), NULL, 'n')$$),
    ($$security.resolve_event((SELECT id FROM security.security_events WHERE email = 'bad-event@example.com'), '', 'n')$$)
) t(q);

-- ---- security.claim_notifications(limit) / security.mark_notification_sent(id) --------
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$(SELECT count(*) FROM security.claim_notifications(NULL))$$),
    ($$(SELECT count(*) FROM security.claim_notifications(0))$$),
    ($$(SELECT count(*) FROM security.claim_notifications(-1))$$),
    ($$(SELECT count(*) FROM security.claim_notifications(10001))$$),
    ($$security.mark_notification_sent(NULL)$$),
    ($$security.mark_notification_sent(-42)$$)
) t(q);

-- The messages are plain: the refusal does not echo the rejected email back.
SELECT position('zz-secret' IN pg_temp.outcome($$security.check_login(repeat('zz-secret', 40), '198.51.100.200')$$)) = 0
       AS email_not_echoed;

-- ---- the session carries on -------------------------------------------------------------
-- Outside a transaction: the next calls work (the prepared statements survived).
SELECT (security.check_login('bad-input@example.com', '198.51.100.200')).reason AS after_errors;
SELECT count(*) AS failures FROM (SELECT security.record_failed_login('bad-input@example.com', '198.51.100.200')) f;
-- Inside one: the error aborts it as usual; after ROLLBACK everything works again.
BEGIN;
SELECT security.record_failed_login(NULL, '198.51.100.200');
SELECT 1;
ROLLBACK;
BEGIN;
SELECT security.unlock_account('bad-input@example.com', '   ');
ROLLBACK;
SELECT security.check_login(' ', '198.51.100.200');
SELECT security.lock_account('bad-lock@example.com', 'holiday', NULL);
SELECT v.allowed, v.reason, v.failed_attempts
  FROM security.check_login('bad-input@example.com', '198.51.100.200') v;
