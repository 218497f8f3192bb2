-- vitaluxe_security install script, part 30: PHI audit log, encryption keys,
-- protected columns (SPEC sections 3 and 4).

-- ---------------------------------------------------------------------------------
-- audit_logs: every access to PHI, written by the application (directly or with
-- security.log_phi_access) and by the decrypting views.  An AFTER INSERT trigger
-- (native) judges each row against the PHI rules.
-- The tamper-evidence columns (hash chain) are added by the part that implements
-- the sealing.
CREATE TABLE security.audit_logs (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at     timestamptz NOT NULL DEFAULT security.now(),
    user_id         uuid,
    user_email      text,
    session_id      uuid,
    action          text        NOT NULL,
    entity_type     text,
    entity_id       text,
    patient_id      uuid,
    practice_id     uuid,
    ip_address      inet,
    details         jsonb       NOT NULL DEFAULT '{}',
    recorded_at     timestamptz NOT NULL DEFAULT security.now(),
    CONSTRAINT audit_logs_action_check CHECK (action ~ '^[a-z][a-z_]*$'),
    CONSTRAINT audit_logs_details_object CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX audit_logs_user_idx ON security.audit_logs (user_id, occurred_at);
CREATE INDEX audit_logs_patient_idx ON security.audit_logs (patient_id, occurred_at);
CREATE INDEX audit_logs_occurred_at_idx ON security.audit_logs (occurred_at);

COMMENT ON TABLE security.audit_logs IS
    'HIPAA audit trail: one row per access to PHI (prescription_accessed, patient_viewed, patient_updated, key_access, ...), inserted by the application or by the decrypting views. occurred_at is when the access happened (the rules judge it, so back-filled rows are judged right), recorded_at when the row was written.';
COMMENT ON COLUMN security.audit_logs.occurred_at IS 'when the access happened';
COMMENT ON COLUMN security.audit_logs.recorded_at IS 'when this row was written';

-- ---------------------------------------------------------------------------------
-- encryption_keys: data keys, stored only wrapped by the master key.  key_id is an
-- integer because every ciphertext envelope names its key.  Readable by nobody but
-- the extension's own functions (no grants, row level security without policies).
CREATE TABLE security.encryption_keys (
    key_id                  integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purpose                 text        NOT NULL DEFAULT 'phi',
    wrapped_key             bytea       NOT NULL,
    master_key_fingerprint  bytea,
    algorithm               text        NOT NULL DEFAULT 'aes-256-gcm',
    status                  text        NOT NULL DEFAULT 'active',
    created_at              timestamptz NOT NULL DEFAULT security.now(),
    rotated_at              timestamptz,
    retired_at              timestamptz,
    encryptions             bigint      NOT NULL DEFAULT 0,
    CONSTRAINT encryption_keys_purpose_check CHECK (purpose ~ '^[a-z][a-z_]*$'),
    CONSTRAINT encryption_keys_algorithm_check CHECK (algorithm = 'aes-256-gcm'),
    CONSTRAINT encryption_keys_status_check
        CHECK (status IN ('active', 'retired', 'compromised', 'destroyed')),
    CONSTRAINT encryption_keys_encryptions_check CHECK (encryptions >= 0)
);
-- one active key per purpose: the key new values are encrypted with
CREATE UNIQUE INDEX encryption_keys_one_active_key
    ON security.encryption_keys (purpose) WHERE status = 'active';

COMMENT ON TABLE security.encryption_keys IS
    'Data encryption keys (AES-256-GCM), stored only wrapped by the master key, which never enters a table. One active key per purpose; retired keys still decrypt until rotation has re-encrypted their values. Readable only by the extension''s functions.';
COMMENT ON COLUMN security.encryption_keys.wrapped_key IS
    'the data key wrapped (encrypted) by the master key';
COMMENT ON COLUMN security.encryption_keys.master_key_fingerprint IS
    'identifies the master key that wrapped this key (never the key itself)';
COMMENT ON COLUMN security.encryption_keys.encryptions IS
    'values encrypted with this key, for the GCM usage limit';

-- ---------------------------------------------------------------------------------
-- protected_columns: PHI columns registered by security.protect_column.  Tables are
-- named, not referenced by regclass, so a dump restores them into a fresh cluster.
CREATE TABLE security.protected_columns (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_schema    name        NOT NULL,
    table_name      name        NOT NULL,
    column_name     name        NOT NULL,
    key_column      name        NOT NULL DEFAULT 'id',
    column_type     text        NOT NULL,
    purpose         text        NOT NULL DEFAULT 'phi',
    registered_at   timestamptz NOT NULL DEFAULT security.now(),
    registered_by   text        DEFAULT security.actor(),
    CONSTRAINT protected_columns_column_type_check CHECK (column_type IN ('text', 'bytea')),
    CONSTRAINT protected_columns_purpose_check CHECK (purpose ~ '^[a-z][a-z_]*$'),
    CONSTRAINT protected_columns_column_key UNIQUE (table_schema, table_name, column_name)
);

COMMENT ON TABLE security.protected_columns IS
    'PHI columns encrypted in place by security.protect_column: the table and column (by name, so dumps restore), the row key bound into each ciphertext, the column type (bytea holds the envelope raw, text holds it armored) and the key purpose.';
