-- Online key rotation: CALL security.rotate_keys (committed batches, resumable),
-- verify_key_rotation, key_rotation_status, compromise, rewrap after a master key change.
-- (The counts rotate_keys reports depend on where a cancel hit; they are silenced.)
SET client_min_messages = warning;
SET vitaluxe_security.actor = 'regress_dba';
SET vitaluxe_security.master_key_command = 'echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

CREATE TABLE vlx_app.order_lines (
    id            bigint PRIMARY KEY,
    prescription  text,
    custom_sig    bytea
);
INSERT INTO vlx_app.order_lines
SELECT g, 'rx ' || g, CASE WHEN g % 3 = 0 THEN convert_to('sig ' || g, 'UTF8') END
  FROM generate_series(1, 20000) AS g;
SELECT security.protect_column('vlx_app.order_lines', 'prescription') AS encrypted;
SELECT security.protect_column('vlx_app.order_lines', 'custom_sig') AS encrypted;

-- How many protected values there are, and a check that each still decrypts to what was
-- written (through the decrypting view; its reads are audited, which is fine here).
CREATE FUNCTION pg_temp.all_intact() RETURNS text LANGUAGE sql AS $$
    SELECT format('%s of %s prescriptions, %s of %s sigs intact',
                  count(*) FILTER (WHERE prescription = 'rx ' || id), count(*),
                  count(*) FILTER (WHERE convert_from(custom_sig, 'UTF8') = 'sig ' || id),
                  count(custom_sig))
      FROM vlx_app.order_lines_decrypted
$$;
SELECT pg_temp.all_intact();

-- ---- arguments ------------------------------------------------------------------------
CALL security.rotate_keys(NULL, 0);
CALL security.rotate_keys(NULL, NULL);

-- ---- a full rotation --------------------------------------------------------------------
SELECT key_id AS first_active FROM security.encryption_keys_tab WHERE status = 'active' \gset
CALL security.rotate_keys(NULL, 500);
SELECT security.verify_key_rotation() AS values_on_old_keys;
SELECT key_id = :first_active AS is_first, status, retired_at IS NOT NULL AS retired_done
  FROM security.encryption_keys_tab WHERE key_id >= :first_active ORDER BY key_id;
SELECT status, new_key_id > :first_active AS new_key, batches > 0 AS batched, values_reencrypted, values_failed
  FROM security.key_rotations ORDER BY id;
SELECT table_name, column_name, phase, values_reencrypted, values_failed
  FROM security.key_rotation_status WHERE rotation_id = (SELECT max(id) FROM security.key_rotations)
 ORDER BY table_name, column_name;
-- every value is on the new key and still reads back
SELECT count(*) AS not_on_active_key FROM vlx_app.order_lines
 WHERE security.envelope_key_id(prescription) <> (SELECT key_id FROM security.encryption_keys_tab WHERE status = 'active');

-- ---- cancelled half-way (statement_timeout), then resumed --------------------------------
SET statement_timeout = '300ms';
\set VERBOSITY terse
CALL security.rotate_keys(NULL, 10);
\set VERBOSITY default
RESET statement_timeout;
SELECT status FROM security.key_rotations ORDER BY id DESC LIMIT 1;
SELECT security.verify_key_rotation() > 0 AS unfinished;
SELECT pg_temp.all_intact();
-- the next CALL resumes the same rotation (no new key) and finishes it
CALL security.rotate_keys();
SELECT security.verify_key_rotation() AS values_on_old_keys;
SELECT id, status FROM security.key_rotations ORDER BY id;
SELECT count(*) AS keys FROM security.encryption_keys_tab WHERE key_id > :first_active;
-- nothing re-encrypted twice: the resumed rotation re-encrypted each value exactly once
SELECT r.values_reencrypted = (SELECT count(prescription) + count(custom_sig) FROM vlx_app.order_lines)
                              + (SELECT count(allergies) + count(notes) + count(scan) FROM vlx_app.patients)
       AS each_value_once
  FROM security.key_rotations r ORDER BY r.id DESC LIMIT 1;
SELECT pg_temp.all_intact();

-- In a transaction block the procedure cannot commit between batches: it runs as one
-- transaction (atomic), and still completes.
BEGIN;
CALL security.rotate_keys('phi', 5000);
COMMIT;
SELECT security.verify_key_rotation() AS values_on_old_keys;

-- ---- a compromised key ------------------------------------------------------------------
SELECT key_id AS compromised FROM security.encryption_keys_tab WHERE status = 'active' \gset
SELECT security.mark_key_compromised(:compromised, NULL);
SELECT security.mark_key_compromised(:compromised, '  ');
SELECT security.mark_key_compromised(999999, 'no such key');
SELECT security.mark_key_compromised(:compromised, 'key material found on a stolen laptop') AS incident \gset
SELECT security.mark_key_compromised(:compromised, 'twice');
SELECT status FROM security.encryption_keys_tab WHERE key_id = :compromised;
-- a P0 incident that must be answered within the hour, and a critical event
SELECT incident_type, title, severity, priority, status, respond_by - detected_at AS respond_within, summary
  FROM security.incidents WHERE id = :incident;
SELECT event_type, severity, priority, details->>'key_id' = :'compromised' AS names_key,
       incident_id = :incident AS linked
  FROM security.security_events WHERE event_type = 'key_compromised';
SELECT recipient_role, subject ~ 'key_compromised' AS subject_ok
  FROM security.notifications n JOIN security.security_events e ON e.id = n.event_id
 WHERE e.event_type = 'key_compromised' ORDER BY recipient_role;
-- it encrypts nothing more: new writes go to a new key
INSERT INTO vlx_app.order_lines VALUES (20001, 'rx 20001', NULL);
SELECT security.envelope_key_id(prescription) <> :compromised AS new_value_on_new_key
  FROM vlx_app.order_lines WHERE id = 20001;
SELECT security.verify_key_rotation() > 0 AS values_on_compromised_key;
SELECT check_name, status FROM security.system_health WHERE check_name = 'key_age';
-- the next rotation moves its values first (phase compromised_keys), then the rest
CALL security.rotate_keys();
SELECT security.verify_key_rotation() AS values_on_old_keys;
SELECT count(*) AS still_on_compromised FROM vlx_app.order_lines
 WHERE security.envelope_key_id(prescription) = :compromised;
SELECT status, retired_at IS NOT NULL AS emptied FROM security.encryption_keys_tab WHERE key_id = :compromised;
SELECT check_name, status FROM security.system_health WHERE check_name = 'key_age';
SELECT pg_temp.all_intact();

-- Compromised first, for real: values on two old keys, one of them compromised. The
-- GCM limit makes a new key without rotation (key A retired, key B active), rows are
-- written under B, then A is declared compromised; the rotation moves A's values in its
-- compromised_keys phase, before B's.
SELECT key_id AS key_a FROM security.encryption_keys_tab WHERE status = 'active' \gset
SET vitaluxe_security.key_max_encryptions = 10;
INSERT INTO vlx_app.order_lines SELECT g, 'rx ' || g, NULL FROM generate_series(20002, 20011) g;
RESET vitaluxe_security.key_max_encryptions;
SELECT count(*) FILTER (WHERE security.envelope_key_id(prescription) = :key_a) AS on_key_a,
       count(*) FILTER (WHERE security.envelope_key_id(prescription) <> :key_a) AS on_later_keys
  FROM vlx_app.order_lines;
SELECT security.mark_key_compromised(:key_a, 'second compromise, for the ordering test') IS NOT NULL AS declared;
CALL security.rotate_keys();
SELECT security.verify_key_rotation() AS values_on_old_keys;
SELECT table_name, column_name, values_reencrypted, compromised_reencrypted
  FROM security.key_rotation_status WHERE rotation_id = (SELECT max(id) FROM security.key_rotations)
   AND table_name = 'order_lines'
 ORDER BY column_name;

-- ---- a value that is not authentic for its row is left alone and counted -----------------
SET session_replication_role = replica;
UPDATE vlx_app.order_lines SET prescription = (SELECT prescription FROM vlx_app.order_lines WHERE id = 1) WHERE id = 2;
SET session_replication_role = DEFAULT;
CALL security.rotate_keys();
SELECT status, values_failed FROM security.key_rotations ORDER BY id DESC LIMIT 1;
SELECT security.verify_key_rotation() AS values_on_old_keys;
UPDATE vlx_app.order_lines SET prescription = 'rx 2' WHERE id = 2;
CALL security.rotate_keys();
SELECT security.verify_key_rotation() AS values_on_old_keys;
SELECT status FROM security.key_rotations ORDER BY id DESC LIMIT 1;

-- ---- a new master key: data keys are re-wrapped, ciphertexts stay -----------------------
SET vitaluxe_security.master_key_command = 'echo ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100';
SELECT prescription FROM vlx_app.order_lines_decrypted WHERE id = 5;
SELECT security.rewrap_keys();
SELECT security.rewrap_keys('0123');
SELECT security.rewrap_keys('1111111111111111111111111111111111111111111111111111111111111111');
SELECT security.rewrap_keys('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f') =
       (SELECT count(*) FROM security.encryption_keys_tab WHERE status <> 'destroyed') AS all_rewrapped;
SELECT security.rewrap_keys() AS nothing_left;
SELECT prescription FROM vlx_app.order_lines_decrypted WHERE id = 5;
SELECT pg_temp.all_intact();
