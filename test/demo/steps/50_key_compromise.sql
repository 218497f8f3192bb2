-- Step 50: the seed's highest-priority incident, a key compromise (SPEC section 4): the
-- VitaLuxe PHI columns are encrypted in place, a data key is declared compromised, the
-- platform is locked down, every PHI value is re-encrypted under a new key with its
-- progress on show, verification reaches 0 and the lockdown is lifted.
\echo
\echo '======== 50: key compromise: protect PHI, declare the compromise, lock down, rotate, verify, lift'
-- The master key comes from an HSM/KMS CLI (in production: postgresql.conf, superuser-only).
SET vitaluxe_security.master_key_command = 'echo 5f2d9c7e1a4b3c6d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d';
SET vitaluxe_security.actor = 'security-officer@vitaluxeservice.com';

\echo '-- the PHI columns, encrypted in place (values encrypted per column):'
SELECT c.tbl, c.col, security.protect_column(c.tbl::regclass, c.col) AS encrypted
  FROM (VALUES ('app.patients', 'allergies'), ('app.patients', 'notes'),
               ('app.order_lines', 'prescription'), ('app.order_lines', 'custom_dosage'),
               ('app.order_lines', 'custom_sig'), ('app.practice_payment_methods', 'plaid_token'))
       AS c(tbl, col);

\echo '-- what the table holds now, and what the audited view shows:'
SELECT p.last_name, left(p.allergies, 24) || '...' AS stored_allergies, d.allergies AS decrypted_allergies
  FROM app.patients p JOIN app.patients_decrypted d USING (id)
 WHERE p.allergies IS NOT NULL
 ORDER BY p.last_name LIMIT 3;

\echo '-- 09:12 a data key is found on a stolen laptop: declared compromised (P0 incident):'
SELECT security.mark_key_compromised(
           (SELECT key_id FROM security.encryption_keys_tab WHERE status = 'active'),
           'Laptop of a contractor stolen; the key export was on it.') AS incident;
SELECT id, incident_type, severity, priority, respond_by - detected_at AS respond_within
  FROM security.incidents WHERE incident_type = 'key_compromised';

\echo '-- 09:15 emergency lockdown: non-admins locked out, sessions ended, app offline:'
SELECT security.emergency_lockdown('Key compromise: PHI re-encryption in progress') AS incident;
SELECT app_offline, lockdown_reason FROM security.system_state;
SELECT count(*) AS accounts_locked FROM security.account_lockouts
 WHERE lockout_reason = 'emergency_lockdown' AND unlocked_at IS NULL;
SELECT recipient_role, recipient FROM security.notifications n
  JOIN security.security_events e ON e.id = n.event_id
 WHERE e.event_type = 'emergency_lockdown' ORDER BY recipient_role;

\echo '-- the login path refuses a provider while the platform is offline:'
SELECT allowed, reason FROM security.check_login('dr.alvarez@sunrise.example', '198.51.100.10');

\echo '-- values still on keys that are not active:'
SELECT security.verify_key_rotation() AS values_on_old_keys;

\echo '-- 09:20 rotation: a new key, values of the compromised key first, committed batches:'
CALL security.rotate_keys(NULL, 5);
SELECT table_name, column_name, phase, values_reencrypted, values_failed
  FROM security.key_rotation_status
 WHERE rotation_id = (SELECT max(id) FROM security.key_rotations)
 ORDER BY table_name, column_name;
SELECT key_id, status, encryptions, retired_at IS NOT NULL AS emptied FROM security.encryption_keys_tab;

\echo '-- verification: nothing left on old keys, and the PHI reads back:'
SELECT security.verify_key_rotation() AS values_on_old_keys;
SELECT d.last_name, d.allergies FROM app.patients_decrypted d WHERE d.allergies IS NOT NULL ORDER BY d.last_name LIMIT 3;

\echo '-- 10:05 lockdown lifted:'
SELECT security.lift_lockdown('Rotation verified (0 values on old keys); credentials reset.') AS accounts_unlocked;
SELECT check_name, status, detail FROM security.system_health
 WHERE check_name IN ('key_age', 'key_cache', 'lockdown');
