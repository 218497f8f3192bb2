-- vitaluxe_security install script, part 70: envelope encryption (SPEC section 4).
-- The tables encryption_keys and protected_columns are in part 30; this part adds the
-- native functions, key rotation bookkeeping and the Security -> Encryption views.
-- Grants are in part 95 (after part 90 has revoked everything from PUBLIC).

-- ---------------------------------------------------------------------------------
-- encrypt / decrypt.  Native; SECURITY DEFINER because only the extension's own
-- functions read encryption_keys.  The context is bound as associated data.
CREATE FUNCTION security.encrypt(plaintext text, context text DEFAULT '') RETURNS bytea
    AS 'MODULE_PATHNAME', 'vlx_encrypt_text'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.encrypt(text, text) IS
    'AES-256-GCM envelope of plaintext under the active data key (purpose phi), context bound as associated data; NULL for NULL.';

CREATE FUNCTION security.encrypt(plaintext bytea, context text DEFAULT '') RETURNS bytea
    AS 'MODULE_PATHNAME', 'vlx_encrypt_bytea'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.encrypt(bytea, text) IS
    'AES-256-GCM envelope of plaintext bytes under the active data key (purpose phi), context bound as associated data; NULL for NULL.';

CREATE FUNCTION security.decrypt(ciphertext bytea, context text DEFAULT '') RETURNS text
    AS 'MODULE_PATHNAME', 'vlx_decrypt'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.decrypt(bytea, text) IS
    'The text sealed in an envelope by security.encrypt for this context; an ERROR (22000) for anything tampered, truncated, foreign or bound to another context. security_admin only.';

CREATE FUNCTION security.decrypt_bytea(ciphertext bytea, context text DEFAULT '') RETURNS bytea
    AS 'MODULE_PATHNAME', 'vlx_decrypt_bytea'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.decrypt_bytea(bytea, text) IS
    'The bytes sealed in an envelope by security.encrypt for this context; an ERROR (22000) for anything not authentic. security_admin only.';

-- key_usage: encryptions reserved by backends (a block at a time) and not yet added to
-- encryption_keys.encryptions. Insert-only on the encryption path, so the application
-- never holds a lock on a key row; rotation and verification fold it into the column.
CREATE TABLE security.key_usage (
    key_id       integer     NOT NULL,
    reserved     bigint      NOT NULL,
    reserved_at  timestamptz NOT NULL DEFAULT security.now(),
    CONSTRAINT key_usage_reserved_check CHECK (reserved > 0)
);
CREATE INDEX key_usage_key_idx ON security.key_usage (key_id);
COMMENT ON TABLE security.key_usage IS
    'Encryptions reserved per data key by backends, one row per reservation (a block of up to 1024), not yet folded into security.encryption_keys.encryptions; the key''s count for the GCM limit is the column plus these rows.';

CREATE FUNCTION security.envelope_key_id(value bytea) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlx_envelope_key_id'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION security.envelope_key_id(value text) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlx_envelope_key_id_text'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION security.envelope_key_id(bytea) IS
    'The data key id an envelope names (NULL when the value is not an envelope); says nothing about authenticity.';
COMMENT ON FUNCTION security.envelope_key_id(text) IS
    'The data key id armored text ("vlx1:" + base64 envelope) names, read from its header only (NULL when it does not start like armor); says nothing about authenticity.';

CREATE FUNCTION security.key_cache_stats(
    OUT cached_keys integer, OUT capacity integer, OUT hits bigint, OUT misses bigint, OUT evictions bigint)
    AS 'MODULE_PATHNAME', 'vlx_key_cache_stats'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION security.key_cache_stats() IS
    'This backend''s cache of unwrapped data keys: keys held, bound (vitaluxe_security.key_cache_size), hits, misses, evictions (evicted keys are wiped).';

-- ---------------------------------------------------------------------------------
-- protect_column, its trigger and the decrypting views' function.
CREATE FUNCTION security.protect_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME', 'vlx_protect_trigger'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.protect_trigger() IS
    'BEFORE INSERT OR UPDATE row trigger installed by security.protect_column: seals the protected column bound to (table, column, row key); an unchanged column is left alone.';

CREATE FUNCTION security.protect_column(tbl regclass, col name, key_column name DEFAULT 'id') RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_protect_column'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.protect_column(regclass, name, name) IS
    'Registers a text or bytea PHI column in security.protected_columns, encrypts its values (returns how many), installs the sealing trigger and (re)creates the view <table>_decrypted. Idempotent.';

CREATE FUNCTION security.decrypt_protected(value text, tbl regclass, col name, row_key text) RETURNS text
    AS 'MODULE_PATHNAME', 'vlx_decrypt_protected'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION security.decrypt_protected(value bytea, tbl regclass, col name, row_key text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'vlx_decrypt_protected'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.decrypt_protected(text, regclass, name, text) IS
    'Used by the <table>_decrypted views: the value of a protected text column, for a reader allowed to SELECT it; each call is logged to security.audit_logs (phi_decrypted).';
COMMENT ON FUNCTION security.decrypt_protected(bytea, regclass, name, text) IS
    'Used by the <table>_decrypted views: the value of a protected bytea column, for a reader allowed to SELECT it; each call is logged to security.audit_logs (phi_decrypted).';

-- ---------------------------------------------------------------------------------
-- Key rotation: one row per rotation (per purpose), its progress per protected column.
CREATE TABLE security.key_rotations (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purpose             text        NOT NULL,
    new_key_id          integer     NOT NULL,
    old_key_ids         integer[]   NOT NULL DEFAULT '{}',
    status              text        NOT NULL DEFAULT 'running',
    started_at          timestamptz NOT NULL DEFAULT security.now(),
    started_by          text        DEFAULT security.actor(),
    finished_at         timestamptz,
    batch_size          integer,
    batches             bigint      NOT NULL DEFAULT 0,
    values_reencrypted  bigint      NOT NULL DEFAULT 0,
    values_failed       bigint      NOT NULL DEFAULT 0,
    last_progress_at    timestamptz,
    CONSTRAINT key_rotations_status_check CHECK (status IN ('running', 'done', 'superseded'))
);
-- at most one running rotation per purpose: CALL rotate_keys() resumes it
CREATE UNIQUE INDEX key_rotations_one_running ON security.key_rotations (purpose) WHERE status = 'running';
COMMENT ON TABLE security.key_rotations IS
    'One row per key rotation (CALL security.rotate_keys): the purpose, the new data key, the keys it retires, status running/done/superseded (its new key was compromised before it finished), batches committed and values re-encrypted or left because they were not authentic for their row (values_failed).';

CREATE TABLE security.key_rotation_progress (
    rotation_id          bigint      NOT NULL REFERENCES security.key_rotations (id),
    protected_column_id  bigint      NOT NULL REFERENCES security.protected_columns (id) ON DELETE CASCADE,
    phase                smallint    NOT NULL DEFAULT 2,
    last_key             text,
    values_reencrypted   bigint      NOT NULL DEFAULT 0,
    values_failed        bigint      NOT NULL DEFAULT 0,
    compromised_reencrypted bigint   NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL DEFAULT security.now(),
    PRIMARY KEY (rotation_id, protected_column_id),
    CONSTRAINT key_rotation_progress_phase_check CHECK (phase IN (1, 2, 3))
);
COMMENT ON TABLE security.key_rotation_progress IS
    'Progress of a rotation over one protected column, committed with each batch: phase 1 re-encrypts values on compromised keys, 2 all other values not on the new key, 3 done; last_key is the row key the last committed batch ended at (keyset pagination), so a resumed rotation continues from there.';

CREATE PROCEDURE security.rotate_keys(purpose text DEFAULT NULL, batch_size integer DEFAULT 1000)
    AS 'MODULE_PATHNAME', 'vlx_rotate_keys'
    LANGUAGE C;
COMMENT ON PROCEDURE security.rotate_keys(text, integer) IS
    'Rotates the data key of a purpose (NULL: every purpose): a new active key, then every protected value re-encrypted in committed batches of batch_size rows (values on compromised keys first), row locks only; old keys get retired_at when no value is left on them. CALL it outside a transaction block; CALL it again after a cancel, error or crash to resume.';

CREATE FUNCTION security.verify_key_rotation() RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_verify_key_rotation'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.verify_key_rotation() IS
    'Number of protected values not on the active key of their purpose (0 when rotation is complete); also raises key_rotation_due for active keys older than vitaluxe_security.key_max_age.';

CREATE FUNCTION security.rewrap_keys(old_master_key_hex text DEFAULT NULL) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlx_rewrap_keys'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.rewrap_keys(text) IS
    'After a master key change: re-wraps under the configured master key every data key wrapped by the previous one (given as 64 hex digits); returns how many. The data keys, hence the ciphertexts, do not change.';

-- ---------------------------------------------------------------------------------
-- Security -> Encryption.
CREATE VIEW security.key_rotation_status WITH (security_invoker = true) AS
SELECT r.id                 AS rotation_id,
       r.purpose,
       r.new_key_id,
       r.old_key_ids,
       r.status,
       r.started_at,
       r.started_by,
       r.finished_at,
       r.batches,
       c.table_schema,
       c.table_name,
       c.column_name,
       CASE p.phase WHEN 1 THEN 'compromised_keys' WHEN 2 THEN 'all_values' ELSE 'done' END AS phase,
       p.last_key,
       p.values_reencrypted,
       p.compromised_reencrypted,
       p.values_failed,
       p.updated_at
  FROM security.key_rotations AS r
  LEFT JOIN security.key_rotation_progress AS p ON p.rotation_id = r.id
  LEFT JOIN security.protected_columns AS c ON c.id = p.protected_column_id
 ORDER BY r.id DESC, c.id;
COMMENT ON VIEW security.key_rotation_status IS
    'Key rotations, newest first, one row per protected column: status, phase (compromised_keys, all_values, done), the row key the last committed batch reached, values re-encrypted (of which in the compromised_keys phase) and values left because they are not authentic for their row.';

-- The keys' metadata, never their material: the one way to look at encryption_keys
-- (a view owned by the extension owner; the table itself is readable by nobody).
CREATE VIEW security.encryption_keys_tab AS
SELECT k.key_id,
       k.purpose,
       k.algorithm,
       k.status,
       k.created_at,
       k.rotated_at,
       k.retired_at,
       k.encryptions + coalesce((SELECT sum(u.reserved) FROM security.key_usage AS u
                                  WHERE u.key_id = k.key_id), 0)::bigint AS encryptions,
       security.now() - k.created_at AS age,
       k.status = 'active'
           AND k.created_at < security.now()
               - coalesce(nullif(current_setting('vitaluxe_security.key_max_age', true), ''), '90d')::interval
                                     AS rotation_due
  FROM security.encryption_keys AS k
 ORDER BY k.key_id;
COMMENT ON VIEW security.encryption_keys_tab IS
    'Security -> Encryption: data keys without their material (key id, purpose, algorithm, status, dates, encryptions, age, rotation_due when an active key is older than vitaluxe_security.key_max_age).';

CREATE FUNCTION security.mark_key_compromised(key_id integer, notes text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_mark_key_compromised'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.mark_key_compromised(integer, text) IS
    'Declares a data key compromised: it encrypts nothing more (the next encryption makes a new active key), the next CALL security.rotate_keys() re-encrypts its values first; opens a P0 incident (returned) and raises key_compromised.';
