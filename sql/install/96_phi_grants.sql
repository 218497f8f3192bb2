-- vitaluxe_security install script, part 96: privileges of the PHI audit functions
-- (after part 90 revoked EXECUTE from PUBLIC on every function).
GRANT EXECUTE ON FUNCTION
    security.log_phi_access(uuid, uuid, text, text, text, uuid, uuid, inet, jsonb, timestamptz)
    TO security_app, security_admin;
GRANT EXECUTE ON FUNCTION
    security.verify_audit_chain(),
    security.seal_audit_chain(),
    security.purge_audit_before(timestamptz),
    security.phi_accessed_patients(uuid, timestamptz, timestamptz),
    security.export_user_audit(uuid, timestamptz, timestamptz),
    security._audit_chain_entries(bigint[])
    TO security_admin;
GRANT SELECT ON security.audit_chain TO security_admin;
GRANT SELECT ON security.phi_events TO security_admin;
-- What the views read from shared memory (security_invoker views: their readers call them).
GRANT EXECUTE ON FUNCTION
    security._phi_shared_events(), security._phi_shared_days(), security.phi_shared_state()
    TO security_admin;
GRANT SELECT ON security.phi_daily_counts TO security_admin;
