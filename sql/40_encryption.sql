-- Envelope encryption (SPEC section 4): the master key, data keys, encrypt / decrypt,
-- the envelope format, the encryption counter, the key cache, privileges.
SET client_min_messages = notice;
SET vitaluxe_security.actor = 'regress_dba';

-- Roles of this suite (cluster-wide, so created only when missing).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_vlx_admin') THEN
        CREATE ROLE regress_vlx_admin IN ROLE security_admin;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_vlx_app') THEN
        CREATE ROLE regress_vlx_app IN ROLE security_app;
    END IF;
END
$roles$;

-- ---- the master key -------------------------------------------------------------------
-- Nothing configured: a clear error naming both settings.
SELECT security.encrypt('x');

-- Both settings are superuser-only.
SET ROLE regress_vlx_admin;
SET vitaluxe_security.master_key_command = 'echo 00';
SET vitaluxe_security.master_key_file = '/tmp/key';
RESET ROLE;

-- A key file: created by the server (its umask makes it 0600), then made group-readable.
SELECT current_setting('data_directory') || '/vlx_regress_master.hex' AS keyfile,
       'chmod 0640 ' || current_setting('data_directory') || '/vlx_regress_master.hex' AS chmod_open,
       'chmod 0600 ' || current_setting('data_directory') || '/vlx_regress_master.hex' AS chmod_closed
\gset
COPY (SELECT '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f') TO :'keyfile';
COPY (SELECT 1) TO PROGRAM :'chmod_open';
SET vitaluxe_security.master_key_file = :'keyfile';
-- (the message names the file; shown with the data directory replaced)
DO $$
BEGIN
    PERFORM security.encrypt('x');
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE '% %', SQLSTATE, replace(SQLERRM, current_setting('data_directory'), '$PGDATA');
END
$$;
COPY (SELECT 1) TO PROGRAM :'chmod_closed';
SELECT length(security.encrypt('x')) AS envelope_length;

-- A command instead (an HSM / KMS CLI): used when the file setting is empty. The key is
-- re-read when the setting changes; a failing command or one that prints no key is refused.
RESET vitaluxe_security.master_key_file;
SET vitaluxe_security.master_key_command = 'exit 3';
SELECT security.encrypt('x');
SET vitaluxe_security.master_key_command = 'echo not-a-key';
SELECT security.encrypt('x');
SET vitaluxe_security.master_key_command = 'echo 00ff';
SELECT security.encrypt('x');
SET vitaluxe_security.master_key_command = 'echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

-- ---- round trips ----------------------------------------------------------------------
SELECT security.decrypt(security.encrypt('allergic to penicillin', 'public.patients.notes#1'),
                        'public.patients.notes#1') AS text_round_trip;
SELECT security.decrypt(security.encrypt('', 'ctx'), 'ctx') = '' AS empty_round_trip;
SELECT security.decrypt(security.encrypt('Ünïcødé ✓ 処方', 'ctx'), 'ctx') AS unicode_round_trip;
SELECT security.decrypt_bytea(security.encrypt('\x00ff10'::bytea, 'ctx'), 'ctx') AS bytea_round_trip;
SELECT security.decrypt(security.encrypt(repeat('PHI ', 262144))) = repeat('PHI ', 262144) AS one_mib_round_trip;
SELECT security.decrypt(security.encrypt('default context')) AS default_context;
SELECT security.encrypt(NULL::text) IS NULL AS null_in_null_out,
       security.decrypt(NULL) IS NULL AS null_decrypts_to_null;
SELECT security.encrypt('x', NULL);
-- Every encryption has its own nonce.
SELECT security.encrypt('same', 'ctx') <> security.encrypt('same', 'ctx') AS fresh_nonce;

-- ---- the envelope ---------------------------------------------------------------------
-- version 1 | key_id uint32 big-endian | 12-byte nonce | ciphertext | 16-byte tag
WITH e AS (SELECT security.encrypt('12345', 'ctx') AS v)
SELECT get_byte(v, 0) AS version,
       (get_byte(v, 1) << 24) | (get_byte(v, 2) << 16) | (get_byte(v, 3) << 8) | get_byte(v, 4) AS key_id,
       security.envelope_key_id(v) AS key_id_helper,
       length(v) - 5 - 12 - 16 AS ciphertext_length
  FROM e;
SELECT security.envelope_key_id('\x02'::bytea) IS NULL AS not_an_envelope,
       security.envelope_key_id('plain text') IS NULL AS not_armor;

-- ---- anything not authentic is an ERROR (22000), never garbage --------------------------
\set VERBOSITY sqlstate
SELECT security.decrypt(security.encrypt('secret', 'row 1'), 'row 2');            -- wrong context
SELECT security.decrypt(substring(v FROM 1 FOR length(v) - 1), 'c')                 -- truncated
  FROM (SELECT security.encrypt('secret', 'c') AS v) AS e;
SELECT security.decrypt('\x0100000001000000000000000000000000'::bytea, 'c');      -- too short
SELECT security.decrypt(gen_random_bytes_stub.b, 'c')                              -- foreign bytes
  FROM (SELECT decode(repeat('01', 60), 'hex') AS b) AS gen_random_bytes_stub;
SELECT security.decrypt(overlay(security.encrypt('secret', 'c') PLACING '\x02'::bytea FROM 1 FOR 1), 'c');  -- version
SELECT security.decrypt(overlay(security.encrypt('secret', 'c') PLACING '\x7fffffff'::bytea FROM 2 FOR 4), 'c');  -- key id
\set VERBOSITY default
-- One bit flipped anywhere (version, key id, nonce, ciphertext, tag): every variant refused.
DO $flip$
DECLARE
    v bytea := security.encrypt('patient has diabetes', 'flip');
    refused int := 0;
    other int := 0;
BEGIN
    FOR i IN 0 .. length(v) * 8 - 1 LOOP
        BEGIN
            PERFORM security.decrypt(set_bit(v, i, 1 - get_bit(v, i)), 'flip');
        EXCEPTION
            WHEN data_exception THEN refused := refused + 1;
            WHEN OTHERS THEN other := other + 1;
        END;
    END LOOP;
    RAISE NOTICE 'bits: %, refused with 22000: %, other errors: %', length(v) * 8, refused, other;
END
$flip$;
-- The messages carry neither plaintext nor key.
DO $msg$
BEGIN
    PERFORM security.decrypt(security.encrypt('TOP-SECRET-PLAINTEXT', 'a'), 'b');
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'leaks plaintext: %, message: %', strpos(SQLERRM, 'TOP-SECRET') > 0, SQLERRM;
END
$msg$;

-- ---- data keys ------------------------------------------------------------------------
-- One active key, wrapped (61 bytes), with the master key's fingerprint; counted.
SELECT key_id, purpose, algorithm, status, encryptions > 0 AS counted, rotation_due
  FROM security.encryption_keys_tab;
SELECT count(*) AS keys, min(length(wrapped_key)) AS wrapped_length,
       bool_and(length(master_key_fingerprint) = 32) AS fingerprinted
  FROM security.encryption_keys;

-- The GCM limit: with key_max_encryptions = 10 (each encryption is then reserved alone),
-- the key that reaches it is retired and a new active key takes over.
-- (key 1 went past 10 already: it reserved blocks of 1024 under the default limit.)
SET vitaluxe_security.key_max_encryptions = 10;
CREATE TEMP TABLE sealed AS
SELECT g, security.encrypt('v' || g, 'ctx') AS v FROM generate_series(1, 25) AS g;
SELECT security.envelope_key_id(v) AS key_id, count(*) AS values FROM sealed GROUP BY 1 ORDER BY 1;
SELECT key_id, status, encryptions <= 10 AS within_limit, rotated_at IS NOT NULL AS rotated
  FROM security.encryption_keys_tab ORDER BY key_id;
RESET vitaluxe_security.key_max_encryptions;
-- Values under retired keys still decrypt.
SELECT security.envelope_key_id(v) AS retired_key, security.decrypt(v, 'ctx') AS still_decrypts FROM sealed WHERE g = 1;

-- ---- the key cache: bounded, reported -----------------------------------------------------
-- The values sealed above are under three keys; with room for two, the cache evicts (and
-- wipes) the least recently used while every value still decrypts.
SET vitaluxe_security.key_cache_size = 2;
SELECT count(*) FILTER (WHERE security.decrypt(v, 'ctx') = 'v' || g) AS decrypted FROM (SELECT * FROM sealed ORDER BY g) AS s;
SELECT cached_keys, capacity, evictions > 0 AS evicted FROM security.key_cache_stats();
RESET vitaluxe_security.key_cache_size;
SELECT check_name, status FROM security.system_health WHERE check_name IN ('key_age', 'key_cache');

-- ---- key_rotation_due: keys older than key_max_age, once per key ---------------------------
SET vitaluxe_security.clock_offset = '91 days';
SELECT security.verify_key_rotation() AS values_on_old_keys;
SELECT security.verify_key_rotation() AS again;
SELECT event_type, severity, details ? 'key_id' AS names_key, details->>'action' AS action
  FROM security.security_events WHERE event_type = 'key_rotation_due';
SELECT count(*) AS rotation_due_events FROM security.security_events WHERE event_type = 'key_rotation_due';
SELECT check_name, status FROM security.system_health WHERE check_name = 'key_age';
RESET vitaluxe_security.clock_offset;

-- ---- privileges ---------------------------------------------------------------------------
SET ROLE regress_vlx_app;
SELECT length(security.encrypt('the app may seal', 'ctx')) > 0 AS app_encrypts;
SELECT security.decrypt(security.encrypt('x', 'ctx'), 'ctx');
SELECT security.decrypt_bytea('\x00'::bytea, 'ctx');
SELECT * FROM security.encryption_keys;
SELECT * FROM security.encryption_keys_tab;
RESET ROLE;
SET ROLE regress_vlx_admin;
SELECT security.decrypt(security.encrypt('the admin may open', 'ctx'), 'ctx') AS admin_decrypts;
SELECT count(*) > 0 AS admin_sees_metadata FROM security.encryption_keys_tab;
SELECT * FROM security.encryption_keys;
RESET ROLE;
SELECT p.oid::regprocedure AS function,
       has_function_privilege('security_admin', p.oid, 'EXECUTE') AS admin,
       has_function_privilege('security_app', p.oid, 'EXECUTE') AS app,
       p.prosecdef AS security_definer
  FROM pg_proc p
 WHERE p.pronamespace = 'security'::regnamespace
   AND p.proname IN ('encrypt', 'decrypt', 'decrypt_bytea', 'decrypt_protected', 'protect_column',
                     'rotate_keys', 'verify_key_rotation', 'rewrap_keys', 'mark_key_compromised',
                     'emergency_lockdown', 'lift_lockdown', 'key_cache_stats', 'envelope_key_id')
 ORDER BY 1;
