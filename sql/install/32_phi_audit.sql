-- vitaluxe_security install script, part 32: PHI access rules and the tamper-evident
-- audit chain (SPEC section 3).  Native code: src/pg/phi/, rules in src/core/phi/ and
-- src/core/audit/.
--
-- Insert path of security.audit_logs (README "PHI access auditing"): one AFTER INSERT
-- trigger per statement with the transition table (native). It validates and hashes the
-- new rows (SHA-256 of the canonical encoding), then judges the four rules as a set:
--   preloaded: over shared memory (per-user rule state in a fixed hash), the hashes into
--     the shared seal ring; no table row per audit row;
--   otherwise: over the rule-state tables below (read and written with one prepared
--     statement each), the hashes into security.audit_seal_queue.
-- Sealing: a sealer that gets the advisory lock without waiting (else skips) appends
-- committed-but-unsealed rows to the chain in seal order, one security.audit_chain_block
-- row per seal.

ALTER TABLE security.security_events ADD COLUMN row_hash bytea;
COMMENT ON COLUMN security.security_events.row_hash IS
    'SHA-256 of the canonical encoding of the immutable columns (not the triage workflow columns status, disposition, notes, incident_id, resolved_at, resolved_by), set on insert';

-- ---------------------------------------------------------------------------------
-- Per-user rule state.
CREATE TABLE security.phi_rate_state (
    user_id     uuid    NOT NULL,
    bucket      bigint  NOT NULL,
    state       bytea   NOT NULL,
    PRIMARY KEY (user_id, bucket)
);
COMMENT ON TABLE security.phi_rate_state IS
    'PHI rate rule state: per user per phi_rate_window bucket, the latest access per patient (at most phi_rate_threshold patients, 24 bytes each).';

CREATE TABLE security.phi_daily (
    user_id     uuid    NOT NULL,
    day         date    NOT NULL,
    patients    integer NOT NULL,
    PRIMARY KEY (user_id, day)
);
COMMENT ON TABLE security.phi_daily IS
    'PHI baseline rollup: distinct patients per user per local day (the account''s time zone, else vitaluxe_security.timezone, else TimeZone), maintained by the audit_logs trigger.';

CREATE TABLE security.phi_daily_patients (
    user_id     uuid    NOT NULL,
    day         date    NOT NULL,
    patient_id  uuid    NOT NULL,
    PRIMARY KEY (user_id, day, patient_id)
);
COMMENT ON TABLE security.phi_daily_patients IS
    'The distinct set behind security.phi_daily (which patients a user touched each local day).';

CREATE TABLE security.phi_event_state (
    event_id        bigint      PRIMARY KEY REFERENCES security.security_events (id),
    user_id         uuid        NOT NULL,
    rule            text        NOT NULL,
    window_key      bigint      NOT NULL,
    first_access    timestamptz NOT NULL,
    last_access     timestamptz NOT NULL,
    access_count    bigint      NOT NULL
);
CREATE INDEX phi_event_state_user_rule_idx ON security.phi_event_state (user_id, rule, event_id DESC);
COMMENT ON TABLE security.phi_event_state IS
    'Running state of each PHI anomaly event (de-dup): accesses counted, first and last access. Kept apart from security_events so the event row stays immutable under its chain hash.';

-- ---------------------------------------------------------------------------------
-- The chain.
CREATE TABLE security.audit_chain_block (
    seq_first   bigint      PRIMARY KEY,
    seq_last    bigint      NOT NULL,
    prev_link   bytea       NOT NULL,
    link        bytea       NOT NULL,
    entries     bytea       NOT NULL,
    audit_ids   int8range   NOT NULL,
    unpurged    integer     NOT NULL,
    sealed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT audit_chain_block_seq_check CHECK (seq_last >= seq_first),
    CONSTRAINT audit_chain_block_entries_check
        CHECK (pg_catalog.length(entries) = 41 * (seq_last - seq_first + 1))
);
CREATE INDEX audit_chain_block_audit_ids_idx ON security.audit_chain_block USING gist (audit_ids);
-- Row hashes do not compress: trying (pglz over ~80 KB a seal) cost more than the rest of
-- the seal. Stored out of line as they are.
ALTER TABLE security.audit_chain_block ALTER COLUMN entries SET STORAGE EXTERNAL;
COMMENT ON TABLE security.audit_chain_block IS
    'The hash chain over security.audit_logs and security.security_events, one block per seal: entries (41 bytes each: flags = source 1 audit_logs / 2 security_events, bit 7 purged by retention; row id, 8 bytes big-endian; row hash, 32 bytes) at chain positions seq_first..seq_last, link(n) = SHA-256(link(n-1) || row_hash(n)) from prev_link to link. audit_ids: the range of its audit_logs ids (the index that finds a row''s block); unpurged: entries whose row still exists. Read it entry by entry through the view security.audit_chain.';

CREATE TABLE security.audit_chain_anchor (
    id              integer     PRIMARY KEY DEFAULT 1,
    seq             bigint      NOT NULL,
    link            bytea       NOT NULL,
    purged_before   timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT audit_chain_anchor_single CHECK (id = 1)
);
COMMENT ON TABLE security.audit_chain_anchor IS
    'Where the chain starts after a retention purge: the position and link of the last entry of the last block the purge removed.';

CREATE TABLE security.audit_seal_queue (
    source      smallint    NOT NULL,
    row_id      bigint      NOT NULL,
    row_hash    bytea,
    PRIMARY KEY (source, row_id)
);
COMMENT ON TABLE security.audit_seal_queue IS
    'Rows inserted but not sealed yet (without shared_preload_libraries, and security_events): the sealer moves the committed ones into security.audit_chain. row_hash: the audit_logs row''s hash computed at insert (security_events rows carry theirs).';

CREATE TABLE security.audit_seal_state (
    id              integer     PRIMARY KEY DEFAULT 1,
    horizon         xid8        NOT NULL,
    max_audit_id    bigint      NOT NULL DEFAULT 0,
    CONSTRAINT audit_seal_state_single CHECK (id = 1)
);
COMMENT ON TABLE security.audit_seal_state IS
    'Bookkeeping of the sealer. horizon: the oldest transaction that was running when the last seal read the shared ring (after the ring lost items - a restart, a crash reset, a full ring - the sealer rescans the audit_logs rows written since then). max_audit_id: the highest audit_logs id chained (rows at or below it are looked up in the chain before they are judged: a restore brings back rows already chained).';

-- ---------------------------------------------------------------------------------
-- Triggers (native).
CREATE FUNCTION security._audit_row_hash() RETURNS trigger
    AS 'MODULE_PATHNAME', 'vlx_audit_row_hash' LANGUAGE C
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION security._phi_after_insert() RETURNS trigger
    AS 'MODULE_PATHNAME', 'vlx_phi_after_insert' LANGUAGE C;
    -- Not SECURITY DEFINER and no SET clauses: applying them on every INSERT cost more
    -- than the trigger's hot path. Whatever part needs SPI switches to the function's
    -- owner with search_path pinned (and, on the table path, the planner settings of its
    -- key lookups) inside the C code, and the hot path needs none.
CREATE FUNCTION security._audit_enqueue() RETURNS trigger
    AS 'MODULE_PATHNAME', 'vlx_audit_enqueue' LANGUAGE C
    SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION security._audit_guard() RETURNS trigger
    AS 'MODULE_PATHNAME', 'vlx_audit_guard' LANGUAGE C;
COMMENT ON FUNCTION security._audit_row_hash() IS
    'Trigger: BEFORE INSERT per row on security_events: sets row_hash.';
COMMENT ON FUNCTION security._phi_after_insert() IS
    'Trigger: AFTER INSERT per statement on audit_logs: validates and hashes the new rows, the PHI rules over the transition table (shared memory when preloaded, else the rule-state tables), the rows to the seal ring or queue.';
COMMENT ON FUNCTION security._audit_enqueue() IS
    'Trigger: AFTER INSERT per statement on security_events: queues the new rows for sealing.';
COMMENT ON FUNCTION security._audit_guard() IS
    'Trigger: refuses UPDATE, DELETE and TRUNCATE of chained tables (security_events: only the triage columns may change), except inside the extension''s retention and sealing functions.';

CREATE TRIGGER audit_logs_phi_rules AFTER INSERT ON security.audit_logs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION security._phi_after_insert();
CREATE TRIGGER audit_logs_guard BEFORE UPDATE OR DELETE ON security.audit_logs
    FOR EACH ROW EXECUTE FUNCTION security._audit_guard();
CREATE TRIGGER audit_logs_guard_truncate BEFORE TRUNCATE ON security.audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION security._audit_guard();

CREATE TRIGGER security_events_a_row_hash BEFORE INSERT ON security.security_events
    FOR EACH ROW EXECUTE FUNCTION security._audit_row_hash();
CREATE TRIGGER security_events_enqueue AFTER INSERT ON security.security_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION security._audit_enqueue();
CREATE TRIGGER security_events_guard BEFORE UPDATE OR DELETE ON security.security_events
    FOR EACH ROW EXECUTE FUNCTION security._audit_guard();
CREATE TRIGGER security_events_guard_truncate BEFORE TRUNCATE ON security.security_events
    FOR EACH STATEMENT EXECUTE FUNCTION security._audit_guard();

CREATE TRIGGER audit_chain_block_guard BEFORE UPDATE OR DELETE ON security.audit_chain_block
    FOR EACH ROW EXECUTE FUNCTION security._audit_guard();
CREATE TRIGGER audit_chain_block_guard_truncate BEFORE TRUNCATE ON security.audit_chain_block
    FOR EACH STATEMENT EXECUTE FUNCTION security._audit_guard();
CREATE TRIGGER audit_chain_anchor_guard BEFORE UPDATE OR DELETE ON security.audit_chain_anchor
    FOR EACH ROW EXECUTE FUNCTION security._audit_guard();
CREATE TRIGGER audit_chain_anchor_guard_truncate BEFORE TRUNCATE ON security.audit_chain_anchor
    FOR EACH STATEMENT EXECUTE FUNCTION security._audit_guard();

-- ---------------------------------------------------------------------------------
-- Functions (native).
CREATE FUNCTION security.log_phi_access(
        user_id     uuid,
        patient_id  uuid,
        action      text,
        entity_type text        DEFAULT NULL,
        entity_id   text        DEFAULT NULL,
        practice_id uuid        DEFAULT NULL,
        session_id  uuid        DEFAULT NULL,
        ip          inet        DEFAULT NULL,
        details     jsonb       DEFAULT '{}',
        occurred_at timestamptz DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_log_phi_access'
    LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.log_phi_access(uuid, uuid, text, text, text, uuid, uuid, inet, jsonb, timestamptz) IS
    'Records one PHI access in security.audit_logs (occurred_at defaults to security.now(), user_email from security.accounts) and returns its id. user_id is required (22004); patient_id is required for patient_* and prescription_* actions (22004); occurred_at more than vitaluxe_security.phi_future_skew ahead is refused (22023).';

CREATE FUNCTION security.seal_audit_chain() RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_seal_audit_chain'
    LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.seal_audit_chain() IS
    'Appends the committed, not yet sealed audit_logs and security_events rows to security.audit_chain; waits for a concurrent sealer. Returns the rows sealed.';

CREATE FUNCTION security.verify_audit_chain(
        OUT intact boolean, OUT rows_checked bigint, OUT first_broken_id bigint)
    AS 'MODULE_PATHNAME', 'vlx_verify_audit_chain'
    LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.verify_audit_chain() IS
    'Seals, then walks security.audit_chain from its anchor: recomputes every row''s canonical hash and every link. first_broken_id: id (in audit_logs or security_events) of the first changed, deleted or unchained row; NULL when intact.';

CREATE FUNCTION security.purge_audit_before(before timestamptz) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_purge_audit_before'
    LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.purge_audit_before(timestamptz) IS
    'Retention: deletes audit_logs rows that occurred before the given time (sealing first); their chain entries stay as purged links and the fully purged chain prefix is folded into security.audit_chain_anchor, so the rest still verifies. Returns the rows deleted.';

CREATE FUNCTION security.phi_accessed_patients(user_id uuid, "from" timestamptz, "to" timestamptz)
    RETURNS TABLE (patient_id uuid, practice_id uuid, accesses bigint,
                   first_access timestamptz, last_access timestamptz, actions text[])
    AS 'MODULE_PATHNAME', 'vlx_phi_accessed_patients'
    LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.phi_accessed_patients(uuid, timestamptz, timestamptz) IS
    'Review accessed records: one row per patient whose PHI the user touched in [from, to): practice, accesses, first and last access, actions.';

CREATE FUNCTION security.export_user_audit(user_id uuid, "from" timestamptz, "to" timestamptz)
    RETURNS SETOF jsonb
    AS 'MODULE_PATHNAME', 'vlx_export_user_audit'
    LANGUAGE C STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.export_user_audit(uuid, timestamptz, timestamptz) IS
    'Evidence export: one JSON document per audit_logs row of the user in [from, to), in id order, with its row_hash and, once sealed, its chain position and link (hex).';

-- The chain entry by entry: the blocks unpacked, with each entry's links.
CREATE FUNCTION security._audit_chain_entries(audit_ids bigint[] DEFAULT NULL)
    RETURNS TABLE (seq bigint, source smallint, row_id bigint, row_hash bytea,
                   previous_link bytea, link bytea, sealed_at timestamptz, purged boolean)
    AS 'MODULE_PATHNAME', 'vlx_audit_chain_entries'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION security._audit_chain_entries(bigint[]) IS
    'The entries of security.audit_chain_block in chain order with their links; given audit_logs ids, only those ids'' entries (the blocks found through the audit_ids index).';
CREATE VIEW security.audit_chain WITH (security_invoker = true) AS
    SELECT e.seq, e.source, e.row_id, e.row_hash, e.previous_link, e.link, e.sealed_at, e.purged
      FROM security._audit_chain_entries() AS e;
COMMENT ON VIEW security.audit_chain IS
    'The hash chain entry by entry (source 1 audit_logs, 2 security_events), in seal order: link = SHA-256(previous_link || row_hash). purged: the row was removed by security.purge_audit_before (its link still verifies). Stored as one row per seal in security.audit_chain_block.';

-- ---------------------------------------------------------------------------------
-- PHI anomaly events with their running state (the de-dup counters).
CREATE FUNCTION security._phi_shared_events(
        OUT event_id bigint, OUT access_count bigint, OUT first_access timestamptz, OUT last_access timestamptz)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlx_phi_shared_events'
    LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security._phi_shared_events() IS
    'The running counts of the open PHI events in shared memory (preloaded; none otherwise): newer than security.phi_event_state, which they reach every 1000 accesses and when the event is superseded.';

CREATE FUNCTION security._phi_shared_days(OUT user_id uuid, OUT day date, OUT patients bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vlx_phi_shared_days'
    LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security._phi_shared_days() IS
    'Distinct patients per user of the current local day in shared memory (preloaded; none otherwise); security.phi_daily gets the day when the user''s next day starts.';

CREATE FUNCTION security.phi_shared_state(
        OUT users bigint, OUT users_capacity bigint, OUT users_refused bigint,
        OUT ring bigint, OUT ring_capacity bigint, OUT ring_dropped bigint, OUT bytes bigint)
    AS 'MODULE_PATHNAME', 'vlx_phi_shared_state'
    LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.phi_shared_state() IS
    'Shared memory of the PHI path (bounded, fixed at start): users with state / capacity / first accesses refused because it was full (judged on the tables instead), unsealed rows in the seal ring / capacity / dropped (found again by a rescan), bytes. All NULL without shared_preload_libraries.';

-- Distinct patients per user per local day: the rollup, with the current days from
-- shared memory where it is newer.
CREATE VIEW security.phi_daily_counts WITH (security_invoker = true) AS
SELECT coalesce(l.user_id, d.user_id) AS user_id, coalesce(l.day, d.day) AS day,
       GREATEST(l.patients, d.patients)::bigint AS patients
  FROM security.phi_daily AS d
  FULL JOIN security._phi_shared_days() AS l ON l.user_id = d.user_id AND l.day = d.day;
COMMENT ON VIEW security.phi_daily_counts IS
    'Distinct patients per user per local day (the baseline rule''s rollup security.phi_daily, with the current days of shared memory when preloaded).';

CREATE VIEW security.phi_events WITH (security_invoker = true) AS
SELECT e.id, e.event_type, e.severity, e.priority, e.user_id, e.email, e.occurred_at, e.attempt_count,
       e.status, e.disposition, e.details,
       GREATEST(s.access_count, l.access_count) AS access_count,
       LEAST(s.first_access, l.first_access) AS first_access,
       GREATEST(s.last_access, l.last_access) AS last_access
  FROM security.security_events AS e
  JOIN security.phi_event_state AS s ON s.event_id = e.id
  LEFT JOIN security._phi_shared_events() AS l ON l.event_id = e.id
 ORDER BY e.id;
COMMENT ON VIEW security.phi_events IS
    'PHI anomaly events with their running count and first/last access (security.phi_event_state, and the newer counts in shared memory when preloaded).';
