-- vitaluxe_security install script, part 97: the PHI audit rows of security.system_health
-- (after part 90, which revoked EXECUTE from PUBLIC on every function).
CREATE FUNCTION security.phi_health(OUT check_name text, OUT status text, OUT detail text)
    RETURNS SETOF record
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT 'audit_chain'::text,
           CASE WHEN q.waiting > 0 AND coalesce(h.sealed_at, '-infinity') < pg_catalog.now() - interval '10 minutes'
                THEN 'warn' ELSE 'ok' END,
           format('%s rows chained (head %s, last sealed %s); %s waiting in the seal queue, %s in the shared ring%s',
                  coalesce(h.seq, a.seq, 0), coalesce(h.seq, a.seq, 0), coalesce(h.sealed_at::text, 'never'),
                  q.waiting, coalesce(s.ring, 0),
                  CASE WHEN q.waiting > 0 AND coalesce(h.sealed_at, '-infinity') < pg_catalog.now() - interval '10 minutes'
                       THEN ': nothing sealed for 10 minutes, run security.seal_audit_chain()' ELSE '' END)
      FROM (SELECT count(*) AS waiting FROM security.audit_seal_queue) AS q
      LEFT JOIN LATERAL (SELECT b.seq_last AS seq, b.sealed_at FROM security.audit_chain_block AS b
                          ORDER BY b.seq_first DESC LIMIT 1) AS h ON true
      LEFT JOIN security.audit_chain_anchor AS a ON true
      LEFT JOIN security.phi_shared_state() AS s ON true
    UNION ALL
    SELECT 'phi_shared_memory',
           CASE WHEN s.users IS NULL THEN 'off'
                WHEN s.users_refused > 0 OR s.ring_dropped > 0 THEN 'warn'
                ELSE 'ok' END,
           CASE WHEN s.users IS NULL
                THEN 'not preloaded: the PHI rules keep their state in the rule tables (slower inserts)'
                ELSE format('%s of %s users with shared rule state, %s of %s unsealed rows in the ring, %s bytes fixed at start',
                            s.users, s.users_capacity, s.ring, s.ring_capacity, s.bytes)
                     || CASE WHEN s.users_refused > 0
                             THEN format('; %s first accesses found it full and were judged on the rule tables', s.users_refused)
                             ELSE '' END
                     || CASE WHEN s.ring_dropped > 0
                             THEN format('; %s ring items dropped (found again by a rescan of audit_logs)', s.ring_dropped)
                             ELSE '' END
           END
      FROM security.phi_shared_state() AS s
$fn$;
COMMENT ON FUNCTION security.phi_health() IS
    'Rows of security.system_health for PHI auditing: audit_chain (rows chained, waiting; warn when rows wait and nothing was sealed for 10 minutes), phi_shared_memory (off without preload; warn when the shared user table was full or the seal ring dropped items).';
REVOKE EXECUTE ON FUNCTION security.phi_health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION security.phi_health() TO security_admin;

DO $health$
DECLARE
    def text := pg_catalog.pg_get_viewdef('security.system_health'::regclass);
    note text := pg_catalog.obj_description('security.system_health'::regclass, 'pg_class');
BEGIN
    EXECUTE format('CREATE OR REPLACE VIEW security.system_health WITH (security_invoker = true) AS '
                   'SELECT h.check_name, h.status, h.detail FROM (%s) AS h '
                   'UNION ALL SELECT p.check_name, p.status, p.detail FROM security.phi_health() AS p',
                   rtrim(def, E'; \n'));
    EXECUTE format('COMMENT ON VIEW security.system_health IS %L',
                   note || ' Then audit_chain (rows chained and waiting; warn when rows wait and nothing was sealed for 10 minutes) and phi_shared_memory (off without preload; warn when the shared PHI state was full or the seal ring dropped items).');
END
$health$;
