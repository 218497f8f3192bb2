-- vitaluxe_security install script, part 95: privileges of the encryption functions
-- (after part 90 revoked everything from PUBLIC).
--   security_admin: everything here.
--   security_app:   encrypt (sealing reveals nothing) and the decrypting views' function,
--                   which itself checks that the reader may SELECT the column and logs
--                   each value read.  Never decrypt / decrypt_bytea.
GRANT EXECUTE ON FUNCTION
    security.encrypt(text, text), security.encrypt(bytea, text)
    TO security_admin, security_app;
GRANT EXECUTE ON FUNCTION
    security.decrypt(bytea, text), security.decrypt_bytea(bytea, text),
    security.envelope_key_id(bytea), security.envelope_key_id(text),
    security.key_cache_stats(),
    security.protect_column(regclass, name, name)
    TO security_admin;
GRANT EXECUTE ON FUNCTION
    security.decrypt_protected(text, regclass, name, text),
    security.decrypt_protected(bytea, regclass, name, text)
    TO security_admin, security_app;
GRANT EXECUTE ON FUNCTION
    security.verify_key_rotation(), security.rewrap_keys(text),
    security.mark_key_compromised(integer, text),
    security.emergency_lockdown(text), security.lift_lockdown(text),
    security.encryption_health()
    TO security_admin;
GRANT EXECUTE ON PROCEDURE security.rotate_keys(text, integer) TO security_admin;
GRANT SELECT ON security.key_rotation_status, security.encryption_keys_tab TO security_admin;
