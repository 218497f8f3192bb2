-- Step 30: the provider calls support; the admin verifies and unlocks with notes.
\echo
\echo '======== 30: admin unlock of dr.alvarez@sunrise.example (identity verified by phone)'
SELECT security.unlock_account('dr.alvarez@sunrise.example',
                               'Caller verified by phone callback to the practice line; ticket SEC-1042') AS lockouts_ended;
SELECT * FROM security.check_login('dr.alvarez@sunrise.example', '192.0.2.10');
\echo 'MFA is now recommended and a password reset was queued for the user:'
SELECT email, mfa_recommended, monitor_until > security.now() AS watched
  FROM security.accounts WHERE email = 'dr.alvarez@sunrise.example';
SELECT recipient_role, recipient, subject FROM security.notifications
 WHERE subject = 'password_reset_requested';
\echo 'The next failure on the watched account raises post_unlock_failure:'
SELECT v.allowed, v.failed_attempts
  FROM security.record_failed_login('dr.alvarez@sunrise.example', '192.0.2.10', 'Safari/17') AS v;
\echo 'The mailer drains the outbox (SKIP LOCKED, so several mailers never send twice):'
SELECT id, recipient_role, subject FROM security.claim_notifications(100);
RESET vitaluxe_security.actor;
\ir ../print_tabs.sql
