-- vitaluxe_security install script, part 95: who may call the login path (after part 90
-- took EXECUTE away from PUBLIC on every function).
--   security_app:   the three functions the application calls on every sign-in, and nothing else
--   security_admin: the admin actions and the outbox
GRANT EXECUTE ON FUNCTION
    security.check_login(text, inet),
    security.record_failed_login(text, inet, text),
    security.record_successful_login(text, inet, text)
    TO security_app;

GRANT EXECUTE ON FUNCTION
    security.unlock_account(text, text),
    security.lock_account(text, text, text, timestamptz),
    security.block_ip(cidr, text, timestamptz),
    security.unblock_ip(cidr, text),
    security.resolve_event(bigint, text, text),
    security.claim_notifications(integer),
    security.mark_notification_sent(bigint)
    TO security_admin;

REVOKE ALL ON TYPE security.login_verdict FROM PUBLIC;
GRANT USAGE ON TYPE security.login_verdict TO security_app, security_admin;
