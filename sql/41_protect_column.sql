-- security.protect_column: a PHI column encrypted in place, sealed by trigger with
-- (table, column, row key) as associated data, read through <table>_decrypted (audited).
SET client_min_messages = notice;
SET vitaluxe_security.actor = 'regress_dba';
SET vitaluxe_security.master_key_command = 'echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

CREATE SCHEMA vlx_app;
CREATE TABLE vlx_app.patients (
    id          integer PRIMARY KEY,
    name        text NOT NULL,
    allergies   text,
    notes       text,
    scan        bytea,
    age         integer
);
INSERT INTO vlx_app.patients VALUES
    (1, 'Ann',  'penicillin', 'diabetic',         '\x0102ff', 40),
    (2, 'Bob',  NULL,         'hypertension',     NULL,       51),
    (3, 'Cleo', 'latex',      'vlx1:not-really',  '\x01',     29);

-- ---- validation -----------------------------------------------------------------------
SELECT security.protect_column('vlx_app.patients', 'nope');
SELECT security.protect_column('vlx_app.patients', 'age');
SELECT security.protect_column('vlx_app.patients', 'notes', 'missing_key');
SELECT security.protect_column('vlx_app.patients', 'notes', 'notes');
SELECT security.protect_column('vlx_app.patients', 'notes', 'scan');
SELECT security.protect_column(NULL, 'notes');
SELECT security.protect_column('vlx_app.patients', NULL);
CREATE VIEW vlx_app.patient_names AS SELECT id, name FROM vlx_app.patients;
SELECT security.protect_column('vlx_app.patient_names', 'name');
SELECT security.protect_column('security.accounts', 'email', 'user_id');
SELECT security.protect_column('vlx_app.patients', 'notes', 'name');   -- not unique
CREATE TABLE vlx_app.parted (id integer PRIMARY KEY, v text) PARTITION BY RANGE (id);
SELECT security.protect_column('vlx_app.parted', 'v');
DROP TABLE vlx_app.parted;

-- ---- protecting: the values already there are encrypted --------------------------------
SELECT security.protect_column('vlx_app.patients', 'allergies') AS encrypted;
SELECT security.protect_column('vlx_app.patients', 'notes') AS encrypted;
SELECT security.protect_column('vlx_app.patients', 'scan') AS encrypted;
-- again: idempotent, nothing encrypted twice (0 newly encrypted)
SELECT security.protect_column('vlx_app.patients', 'notes') AS encrypted_again;
SELECT table_schema, table_name, column_name, key_column, column_type, purpose, registered_by
  FROM security.protected_columns ORDER BY id;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'vlx_app.patients'::regclass ORDER BY tgname;

-- Text columns hold armor ("vlx1:" + base64), bytea columns the raw envelope; the
-- column types are unchanged.
SELECT id, left(allergies, 5) AS allergies, left(notes, 5) AS notes,
       get_byte(scan, 0) AS scan_version, length(scan) - 33 AS scan_plain_length,
       security.envelope_key_id(notes) AS key_id
  FROM vlx_app.patients ORDER BY id;
SELECT format_type(atttypid, atttypmod) AS type, attname FROM pg_attribute
 WHERE attrelid = 'vlx_app.patients'::regclass AND attnum > 0 ORDER BY attnum;

-- ---- the decrypting view ----------------------------------------------------------------
SELECT * FROM vlx_app.patients_decrypted ORDER BY id;
SELECT format_type(atttypid, atttypmod) AS type, attname FROM pg_attribute
 WHERE attrelid = 'vlx_app.patients_decrypted'::regclass ORDER BY attnum;
-- every value read is logged (3 rows x 3 protected columns, NULLs excepted: 7)
SELECT action, entity_type, entity_id, details->>'column' AS col, user_email
  FROM security.audit_logs WHERE action = 'phi_decrypted' ORDER BY id;

-- ---- writes through the trigger -------------------------------------------------------
CREATE TEMP TABLE before_update AS SELECT id, allergies, notes, scan FROM vlx_app.patients;
-- Another column changes, or the column is set to itself: the ciphertext is left alone.
UPDATE vlx_app.patients SET age = age + 1;
UPDATE vlx_app.patients SET notes = notes WHERE id = 1;
SELECT p.id, p.allergies = b.allergies AS allergies_kept, p.notes = b.notes AS notes_kept,
       p.scan IS NOT DISTINCT FROM b.scan AS scan_kept
  FROM vlx_app.patients p JOIN before_update b USING (id) ORDER BY id;
-- A new value is sealed; so is an INSERT, including text that merely looks like armor.
UPDATE vlx_app.patients SET notes = 'type 2 diabetes' WHERE id = 1;
INSERT INTO vlx_app.patients (id, name, allergies, notes, scan)
VALUES (4, 'Dan', 'vlx1:AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'new patient', '\x01000000');
SELECT id, left(notes, 5) = 'vlx1:' AS notes_sealed, left(allergies, 5) = 'vlx1:' AS allergies_sealed,
       allergies <> 'vlx1:AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' AS not_taken_as_is
  FROM vlx_app.patients WHERE id IN (1, 4) ORDER BY id;
SELECT id, allergies, notes, scan FROM vlx_app.patients_decrypted WHERE id IN (1, 4) ORDER BY id;
-- An app copying a ciphertext from another row through the trigger writes that text, not
-- the PHI it stands for.
UPDATE vlx_app.patients SET notes = (SELECT notes FROM vlx_app.patients WHERE id = 2) WHERE id = 4;
SELECT left(notes, 5) = 'vlx1:' AS copied_armor_shown_as_text FROM vlx_app.patients_decrypted WHERE id = 4;
-- A changed row key: the ciphertext follows the row (re-bound to the new key).
UPDATE vlx_app.patients SET id = 30 WHERE id = 3;
SELECT id, allergies, notes FROM vlx_app.patients_decrypted WHERE id = 30;

-- ---- a value moved behind the trigger's back does not decrypt ----------------------------
SET session_replication_role = replica;
UPDATE vlx_app.patients SET notes = (SELECT notes FROM vlx_app.patients WHERE id = 1) WHERE id = 2;
UPDATE vlx_app.patients SET allergies = notes WHERE id = 30;
SET session_replication_role = DEFAULT;
SELECT notes FROM vlx_app.patients_decrypted WHERE id = 2;     -- another row
SELECT allergies FROM vlx_app.patients_decrypted WHERE id = 30; -- another column
SELECT notes FROM vlx_app.patients_decrypted WHERE id = 1;     -- the original is intact
-- restore the two rows for the next tests
UPDATE vlx_app.patients SET notes = 'hypertension' WHERE id = 2;
UPDATE vlx_app.patients SET allergies = 'latex' WHERE id = 30;
-- (row 4 holds, as text, the armor copied from row 2 earlier: shown by its prefix)
SELECT id, allergies, CASE WHEN id = 4 THEN left(notes, 5) ELSE notes END AS notes
  FROM vlx_app.patients_decrypted ORDER BY id;

-- ---- who may read ---------------------------------------------------------------------
-- The view is security_invoker: a reader needs SELECT on the table; decrypt_protected
-- checks it too when called directly, and logs each value.
GRANT USAGE ON SCHEMA vlx_app TO regress_vlx_app;
SELECT notes AS sealed_notes FROM vlx_app.patients WHERE id = 2 \gset
SET ROLE regress_vlx_app;
SELECT * FROM vlx_app.patients_decrypted;
SELECT security.decrypt_protected(:'sealed_notes', 'vlx_app.patients', 'notes', '2');
RESET ROLE;
GRANT SELECT ON vlx_app.patients, vlx_app.patients_decrypted TO regress_vlx_app;
SET ROLE regress_vlx_app;
SET vitaluxe_security.actor = 'nurse@example.com';
SELECT id, notes FROM vlx_app.patients_decrypted WHERE id = 2;
-- the app role cannot call security.decrypt itself
SELECT security.decrypt(notes::bytea) FROM vlx_app.patients WHERE id = 2;
RESET ROLE;
SELECT user_email, entity_type, entity_id, details->>'column' AS col
  FROM security.audit_logs WHERE action = 'phi_decrypted' AND user_email = 'nurse@example.com' ORDER BY id;
REVOKE ALL ON vlx_app.patients, vlx_app.patients_decrypted FROM regress_vlx_app;
REVOKE USAGE ON SCHEMA vlx_app FROM regress_vlx_app;
