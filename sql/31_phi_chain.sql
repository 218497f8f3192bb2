-- Tamper evidence (SPEC section 3): audit_logs and security_events are hash-chained,
-- append-only for every role, and security.verify_audit_chain() finds a row changed or
-- deleted behind the triggers' back.  Runs on the rows 30_phi_rules left.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET vitaluxe_security.actor = 'regress_dba';

CREATE FUNCTION pg_temp.outcome(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Every row so far is chained once verify has sealed: intact.
SELECT (SELECT count(*) FROM security.audit_logs) + (SELECT count(*) FROM security.security_events) AS rows_in_tables;
SELECT * FROM security.verify_audit_chain();
SELECT count(*) AS unsealed FROM security.audit_seal_queue;
-- Each link is SHA-256(previous link || row hash), from 32 zero bytes.
SELECT bool_and(c.link = sha256(coalesce(p.link, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) || c.row_hash))
       AS links_recompute
  FROM security.audit_chain AS c LEFT JOIN security.audit_chain AS p ON p.seq = c.seq - 1;

-- ---------------------------------------------------------------------------------
-- Append-only, superusers included (this suite runs as a superuser).
SELECT pg_temp.outcome($$UPDATE security.audit_logs SET action = 'patient_updated' WHERE id = 1$$);
SELECT pg_temp.outcome($$DELETE FROM security.audit_logs WHERE id = 1$$);
SELECT pg_temp.outcome($$TRUNCATE security.audit_logs$$);
SELECT pg_temp.outcome($$DELETE FROM security.security_events WHERE id = 1$$);
SELECT pg_temp.outcome($$TRUNCATE security.security_events CASCADE$$);
SELECT pg_temp.outcome($$UPDATE security.audit_chain_block SET link = '\x00' WHERE seq_first = 1$$);
SELECT pg_temp.outcome($$DELETE FROM security.audit_chain_block WHERE seq_first = 1$$);
SELECT pg_temp.outcome($$TRUNCATE security.audit_chain_block$$);
-- The chain's entry view is read-only.
SELECT pg_temp.outcome($$UPDATE security.audit_chain SET row_hash = '\x00' WHERE seq = 1$$);
-- security_events: the chained columns are refused, the triage workflow is allowed.
SELECT pg_temp.outcome($$UPDATE security.security_events SET severity = 'low' WHERE id = 1$$);
SELECT pg_temp.outcome($$UPDATE security.security_events SET details = '{}' WHERE id = 1$$);
SELECT pg_temp.outcome($$UPDATE security.security_events SET row_hash = NULL WHERE id = 1$$);
SELECT pg_temp.outcome($$UPDATE security.security_events SET status = 'acknowledged', notes = 'looking' WHERE id = 1$$);
SELECT * FROM security.verify_audit_chain();

-- ---------------------------------------------------------------------------------
-- A row changed with the triggers bypassed (session_replication_role = replica) is found.
SELECT id AS victim, patient_id AS original_patient FROM security.audit_logs
 WHERE user_id = 'a0000000-0000-0000-0000-000000000002' ORDER BY id LIMIT 1 \gset
SET session_replication_role = replica;
UPDATE security.audit_logs SET patient_id = '00000000-0000-0000-0000-00000000beef' WHERE id = :victim;
RESET session_replication_role;
SELECT intact, first_broken_id = :victim AS found_the_changed_row FROM security.verify_audit_chain();
-- Put back, the chain verifies again: the check is the content, not a flag.
SET session_replication_role = replica;
UPDATE security.audit_logs SET patient_id = :'original_patient' WHERE id = :victim;
RESET session_replication_role;
SELECT intact FROM security.verify_audit_chain();

-- The same with the triggers disabled on the table.
ALTER TABLE security.audit_logs DISABLE TRIGGER USER;
UPDATE security.audit_logs SET details = '{"note": "nothing to see"}' WHERE id = :victim + 1;
ALTER TABLE security.audit_logs ENABLE TRIGGER USER;
SELECT intact, first_broken_id = :victim + 1 AS found_the_changed_row FROM security.verify_audit_chain();
ALTER TABLE security.audit_logs DISABLE TRIGGER USER;
UPDATE security.audit_logs SET details = '{}' WHERE id = :victim + 1;
ALTER TABLE security.audit_logs ENABLE TRIGGER USER;
SELECT intact FROM security.verify_audit_chain();

-- A deleted row is found.
CREATE TEMP TABLE kept AS SELECT * FROM security.audit_logs WHERE id = :victim + 2;
SET session_replication_role = replica;
DELETE FROM security.audit_logs WHERE id = :victim + 2;
RESET session_replication_role;
SELECT intact, first_broken_id = :victim + 2 AS found_the_deleted_row FROM security.verify_audit_chain();
SET session_replication_role = replica;
INSERT INTO security.audit_logs OVERRIDING SYSTEM VALUE SELECT * FROM kept;
RESET session_replication_role;
SELECT intact FROM security.verify_audit_chain();

-- A row slipped in behind the triggers (never chained) is found.
SET session_replication_role = replica;
INSERT INTO security.audit_logs (occurred_at, user_id, action, patient_id)
VALUES ('2026-01-15 12:00+00', 'a0000000-0000-0000-0000-000000000002', 'patient_viewed',
        '00000000-0000-0000-0000-00000000cafe')
RETURNING id AS smuggled \gset
RESET session_replication_role;
SELECT intact, first_broken_id = :smuggled AS found_the_unchained_row FROM security.verify_audit_chain();
SET session_replication_role = replica;
DELETE FROM security.audit_logs WHERE id = :smuggled;
RESET session_replication_role;

-- A security event's chained content changed is found; so is a rewritten chain entry.
SELECT severity AS event2_severity FROM security.security_events WHERE id = 2 \gset
SET session_replication_role = replica;
UPDATE security.security_events SET severity = CASE WHEN severity = 'low' THEN 'medium' ELSE 'low' END WHERE id = 2;
RESET session_replication_role;
SELECT intact, first_broken_id FROM security.verify_audit_chain();
SET session_replication_role = replica;
UPDATE security.security_events SET severity = :'event2_severity' WHERE id = 2;
SELECT encode(row_hash, 'hex') AS seq5_row_hash FROM security.audit_chain WHERE seq = 5 \gset
-- Entry 5's stored hash rewritten inside its block (41 bytes an entry: flags, id, hash).
UPDATE security.audit_chain_block
   SET entries = overlay(entries PLACING sha256('forged') FROM ((5 - seq_first) * 41 + 10)::int FOR 32)
 WHERE 5 BETWEEN seq_first AND seq_last;
RESET session_replication_role;
SELECT intact, first_broken_id = (SELECT row_id FROM security.audit_chain WHERE seq = 5) AS found_the_forged_link
  FROM security.verify_audit_chain();
SET session_replication_role = replica;
UPDATE security.audit_chain_block
   SET entries = overlay(entries PLACING decode(:'seq5_row_hash', 'hex') FROM ((5 - seq_first) * 41 + 10)::int FOR 32)
 WHERE 5 BETWEEN seq_first AND seq_last;
RESET session_replication_role;
SELECT intact FROM security.verify_audit_chain();
-- A block written behind the sealer's back that chains entry 5's row a second time, with
-- correct links (in a transaction rolled back), is found by the duplicate check.
SELECT max(seq_last) AS head_seq FROM security.audit_chain_block \gset
BEGIN;
INSERT INTO security.audit_chain_block (seq_first, seq_last, prev_link, link, entries, audit_ids, unpurged)
SELECT h.seq_last + 1, h.seq_last + 1, h.link, sha256(h.link || c.row_hash),
       substring(b.entries FROM ((5 - b.seq_first) * 41 + 1)::int FOR 41), b.audit_ids, 1
  FROM security.audit_chain AS c, security.audit_chain_block AS h, security.audit_chain_block AS b
 WHERE c.seq = 5 AND h.seq_last = :head_seq AND 5 BETWEEN b.seq_first AND b.seq_last;
SELECT intact, first_broken_id = (SELECT row_id FROM security.audit_chain WHERE seq = 5) AS found_the_duplicate
  FROM security.verify_audit_chain();
ROLLBACK;
-- A block removed (here the first) breaks the links after it and unchains its rows (in a
-- transaction rolled back).
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM security.audit_chain_block WHERE seq_first = (SELECT min(seq_first) FROM security.audit_chain_block);
SELECT intact, first_broken_id IS NOT NULL AS found_the_gap FROM security.verify_audit_chain();
ROLLBACK;
SELECT intact FROM security.verify_audit_chain();

-- ---------------------------------------------------------------------------------
-- Evidence export: one document per audit row of the user, with its chain hashes; each
-- document's link recomputes from its previous link and row hash.
SELECT count(*) AS documents,
       bool_and(d ->> 'chain_link' = encode(sha256(decode(d ->> 'previous_link', 'hex')
                                                   || decode(d ->> 'row_hash', 'hex')), 'hex')) AS links_recompute,
       bool_and(d ? 'patient_id' AND d ? 'occurred_at' AND d ? 'chain_seq') AS complete
  FROM security.export_user_audit('a0000000-0000-0000-0000-000000000002', NULL, NULL) AS d;
SELECT d - 'row_hash' - 'previous_link' - 'chain_link' - 'sealed_at' - 'recorded_at' - 'id' - 'chain_seq' AS document
  FROM security.export_user_audit('a0000000-0000-0000-0000-000000000002', '2026-01-16 11:00+00', '2026-01-16 12:00+00') AS d;

-- ---------------------------------------------------------------------------------
-- Retention: security.purge_audit_before removes old rows; the chain still verifies
-- from its anchor.
SELECT count(*) AS before_cutoff FROM security.audit_logs WHERE occurred_at < '2026-01-16';
SELECT security.purge_audit_before('2026-01-16') AS purged;
SELECT count(*) AS before_cutoff FROM security.audit_logs WHERE occurred_at < '2026-01-16';
SELECT intact, first_broken_id FROM security.verify_audit_chain();
SELECT count(*) > 0 AS anchored FROM security.audit_chain_anchor;
-- The chain now starts right after the anchor; what the purge removed further on stays as
-- purged entries (their rows gone, their links still walked).
SELECT (SELECT min(seq_first) FROM security.audit_chain_block) = (SELECT seq + 1 FROM security.audit_chain_anchor)
       AS starts_after_anchor,
       (SELECT count(*) FROM security.audit_chain AS c
         WHERE c.purged AND EXISTS (SELECT 1 FROM security.audit_logs AS a WHERE a.id = c.row_id AND c.source = 1))
       AS purged_but_present;
-- The entry function: NULL is the whole chain, an empty or unknown id list nothing.
SELECT (SELECT count(*) FROM security._audit_chain_entries(NULL)) = (SELECT count(*) FROM security.audit_chain) AS null_is_all,
       (SELECT count(*) FROM security._audit_chain_entries('{}')) AS none_for_empty,
       (SELECT count(*) FROM security._audit_chain_entries(ARRAY[NULL, -1]::bigint[])) AS none_for_unknown,
       (SELECT count(*) FROM security._audit_chain_entries(ARRAY[(SELECT max(id) FROM security.audit_logs)])) AS one_for_a_row;
-- ... and the rule state of the purged period with them (rate buckets a window before the
-- cutoff, daily rollups a day before it).
SELECT (SELECT count(*) FROM security.phi_rate_state
         WHERE bucket < floor(extract(epoch FROM timestamptz '2026-01-16' - timestamptz '2000-01-01') / 600) - 1)
     + (SELECT count(*) FROM security.phi_daily WHERE day < date '2026-01-15')
     + (SELECT count(*) FROM security.phi_daily_patients WHERE day < date '2026-01-15') AS old_rule_state;
-- The health rows: the chain has nothing waiting for long; the shared state is on exactly
-- when the library is preloaded.
SELECT check_name, status = 'ok' AS ok FROM security.system_health WHERE check_name = 'audit_chain';
SELECT check_name, status = CASE WHEN security.preload_active() THEN 'ok' ELSE 'off' END AS as_configured
  FROM security.system_health WHERE check_name = 'phi_shared_memory';
-- A NULL cutoff purges nothing (the function is STRICT).
SELECT security.purge_audit_before(NULL) IS NULL AS nothing_purged;
-- The anchor itself is guarded.
SELECT pg_temp.outcome($$UPDATE security.audit_chain_anchor SET seq = 0$$);

-- ---------------------------------------------------------------------------------
-- Privileges: the application logs and inserts; it cannot verify, purge or export.
SET ROLE security_app;
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000009001',
                               'patient_viewed', occurred_at => '2026-03-01 12:00+00') > 0 AS app_logs;
INSERT INTO security.audit_logs (occurred_at, user_id, action, patient_id)
VALUES ('2026-03-01 12:01+00', 'a0000000-0000-0000-0000-000000000002', 'patient_viewed',
        '00000000-0000-0000-0000-000000009002');
SELECT pg_temp.outcome($$SELECT * FROM security.verify_audit_chain()$$);
SELECT pg_temp.outcome($$SELECT security.purge_audit_before('2026-02-01')$$);
SELECT pg_temp.outcome($$SELECT security.export_user_audit('a0000000-0000-0000-0000-000000000002', NULL, NULL)$$);
RESET ROLE;
SET ROLE security_admin;
SELECT intact FROM security.verify_audit_chain();
SELECT count(*) AS exported FROM security.export_user_audit('a0000000-0000-0000-0000-000000000002', '2026-03-01', NULL);
RESET ROLE;

-- Sealing needs a READ COMMITTED snapshot (55000 otherwise).
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.outcome($$SELECT * FROM security.verify_audit_chain()$$);
ROLLBACK;
