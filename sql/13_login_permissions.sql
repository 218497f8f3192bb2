-- Who may call what (SPEC sections 0 and 1): security_app calls the three login
-- functions and nothing else of the login path; the admin actions and the outbox need
-- security_admin; PUBLIC gets nothing. Every admin action records its actor.

\i sql/helpers/login_helpers.psql
-- Same for statements without a result.
CREATE FUNCTION pg_temp.run(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- The catalog: who can execute which function of the login path.
SELECT p.oid::regprocedure AS function,
       p.prosecdef AS security_definer,
       has_function_privilege('security_app', p.oid, 'EXECUTE') AS app,
       has_function_privilege('security_admin', p.oid, 'EXECUTE') AS admin,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public
  FROM pg_proc p
 WHERE p.pronamespace = 'security'::regnamespace
   AND p.proname IN ('check_login', 'record_failed_login', 'record_successful_login',
                     'unlock_account', 'lock_account', 'block_ip', 'unblock_ip',
                     'resolve_event', 'claim_notifications', 'mark_notification_sent',
                     '_protection_changed')
 ORDER BY p.proname;

-- ============================================================================
-- security_app: the three login functions work ...
-- ============================================================================
SET ROLE security_app;
SELECT (security.check_login('perm-app@example.com', '198.51.100.150')).reason AS check_login;
SELECT v.allowed, v.reason, v.failed_attempts
  FROM security.record_failed_login('perm-app@example.com', '198.51.100.150', 'app/1.0') v;
SELECT security.record_successful_login('perm-app@example.com', '198.51.100.150', 'app/1.0') IS NOT NULL AS session_started;
-- ... and apply the rules with the extension's privileges (the app cannot read the
-- tables they write): five failures lock.
SELECT v.reason, v.failed_attempts
  FROM generate_series(1, 5) n,
       LATERAL security.record_failed_login('perm-app@example.com', '198.51.100.150', 'app/' || n) v;
SELECT pg_temp.outcome($$security.record_successful_login('perm-app@example.com', '198.51.100.150')$$);

-- ... and nothing else: every admin action and the outbox are refused (42501).
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.unlock_account('perm-app@example.com', 'self-service')$$),
    ($$security.lock_account('perm-victim@example.com', 'manual', 'n')$$),
    ($$security.block_ip('192.0.2.0/24', 'r')$$),
    ($$security.unblock_ip('192.0.2.0/24', 'n')$$),
    ($$security.resolve_event(1, 'resolved', 'n')$$),
    ($$(SELECT count(*) FROM security.claim_notifications(10))$$),
    ($$security.mark_notification_sent(1)$$)
) t(q);
-- The tables and views are closed to it as well.
SELECT q, pg_temp.run(q) FROM (VALUES
    ($$SELECT count(*) FROM security.failed_login_attempts$$),
    ($$SELECT count(*) FROM security.account_lockouts$$),
    ($$SELECT count(*) FROM security.login_state$$),
    ($$SELECT count(*) FROM security.blocked_ips$$),
    ($$SELECT count(*) FROM security.security_events$$),
    ($$SELECT count(*) FROM security.notifications$$),
    ($$SELECT count(*) FROM security.system_state$$),
    ($$SELECT count(*) FROM security.account_security$$),
    ($$SELECT count(*) FROM security.brute_force_attacks$$),
    ($$INSERT INTO security.failed_login_attempts (email) VALUES ('perm-forged@example.com')$$),
    ($$INSERT INTO security.blocked_ips (network, reason) VALUES ('0.0.0.0/0', 'everyone')$$),
    ($$UPDATE security.login_state SET locked = false$$),
    ($$DELETE FROM security.account_lockouts$$),
    ($$INSERT INTO security.system_state (app_offline) VALUES (true)$$)
) t(q);
-- Time travel and the rule settings are superuser-only.
SELECT pg_temp.run($$SET vitaluxe_security.clock_offset = '1 hour'$$) AS clock_offset,
       pg_temp.run($$SET vitaluxe_security.lockout_threshold = 1000$$) AS threshold,
       pg_temp.run($$SET vitaluxe_security.lockout_backoff = 1.5$$) AS backoff;
RESET ROLE;

-- ============================================================================
-- security_admin: the admin actions and the outbox; the actor is recorded.
-- ============================================================================
SET ROLE security_admin;
SET vitaluxe_security.actor = 'ops@vitaluxe.example';
SELECT security.unlock_account('perm-app@example.com', 'checked with the practice') AS ended;
SELECT security.lock_account('perm-victim@example.com', 'verification_required', 'id check') > 0 AS locked;
SELECT security.block_ip('192.0.2.0/25', 'perm test') > 0 AS blocked;
SELECT security.unblock_ip('192.0.2.0/25', 'perm test done') AS unblocked;
SELECT security.resolve_event(id, 'legitimate', 'perm test')::text = '' AS resolved
  FROM security.security_events WHERE email = 'perm-app@example.com' AND event_type = 'brute_force';
SELECT count(*) > 0 AS claimed FROM security.claim_notifications(1);
SELECT security.mark_notification_sent(id) AS marked
  FROM security.notifications WHERE subject = 'password_reset_requested' AND recipient = 'perm-app@example.com';
-- It reads the tabs.
SELECT email, status, lockout_reason, locked_by, unlocked_by
  FROM security.account_security WHERE email IN ('perm-app@example.com', 'perm-victim@example.com')
 ORDER BY email, locked_at;
SELECT event_type, status, disposition FROM security.security_events_tab
 WHERE email = 'perm-app@example.com' ORDER BY event_type;
SELECT event_type, resolved_by FROM security.security_events
 WHERE email = 'perm-app@example.com' AND status = 'resolved';
SELECT network, blocked_by, unblocked_by FROM security.blocked_ips WHERE network = '192.0.2.0/25';
-- It cannot write the record behind the functions' back.
SELECT q, pg_temp.run(q) FROM (VALUES
    ($$INSERT INTO security.failed_login_attempts (email) VALUES ('perm-forged@example.com')$$),
    ($$UPDATE security.account_lockouts SET unlocked_at = security.now()$$),
    ($$UPDATE security.login_state SET locked = false$$),
    ($$INSERT INTO security.security_events (event_type, severity) VALUES ('brute_force', 'low')$$)
) t(q);
-- It is not the application: the login functions are not granted to it.
SELECT pg_temp.outcome($$security.check_login('perm-app@example.com', '198.51.100.150')$$);
RESET vitaluxe_security.actor;
-- Without an actor set, the session user is recorded.
SELECT security.lock_account('perm-victim@example.com', 'manual', 'no actor') > 0 AS locked;
RESET ROLE;
SELECT locked_by = session_user AS locked_by_session_user
  FROM security.account_lockouts WHERE email = 'perm-victim@example.com' AND notes = 'no actor';

-- ============================================================================
-- A role with no grant: nothing.
-- ============================================================================
SET client_min_messages = warning;
DROP ROLE IF EXISTS vlx_regress_nobody;
RESET client_min_messages;
CREATE ROLE vlx_regress_nobody;
GRANT USAGE ON SCHEMA security TO vlx_regress_nobody;
SET ROLE vlx_regress_nobody;
SELECT q, pg_temp.outcome(q) FROM (VALUES
    ($$security.check_login('perm-app@example.com', '198.51.100.150')$$),
    ($$security.record_failed_login('perm-app@example.com', '198.51.100.150')$$),
    ($$security.record_successful_login('perm-app@example.com', '198.51.100.150')$$),
    ($$security.unlock_account('perm-app@example.com', 'n')$$)
) t(q);
RESET ROLE;
REVOKE USAGE ON SCHEMA security FROM vlx_regress_nobody;
DROP ROLE vlx_regress_nobody;
