#!/usr/bin/env bash
# Concurrent inserters and the audit hash chain (SPEC section 3): 6 pgbench clients insert
# single rows and 20-row statements into security.audit_logs (random users, some of them
# raising PHI events, so security_events is chained concurrently too) while another client
# seals; then security.verify_audit_chain() must report an intact chain covering every
# row of both tables exactly once, with no fork (seq dense, one entry per row).
# Env: PGHOST/PGPORT/PGUSER of a running cluster (test/run_all.sh provides them).
set -euo pipefail
DB=vlx_stress_chain
SECS="${VLX_STRESS_SECONDS:-8}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

psql -qX -v ON_ERROR_STOP=1 -d postgres -c 'SET client_min_messages = warning' \
    -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -qX -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
CREATE EXTENSION vitaluxe_security CASCADE;
INSERT INTO security.accounts (user_id, email, role, practice_id, timezone)
SELECT ('b0000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'stress' || g || '@clinic.test',
       'provider', '00000000-0000-0000-0001-000000000001', 'UTC'
  FROM generate_series(1, 50) AS g;
SQL

cat >"$work/one.sql" <<'SQL'
\set u random(1, 60)
\set p random(1, 1000000)
\set pr random(1, 20)
INSERT INTO security.audit_logs (user_id, action, patient_id, practice_id)
VALUES (('b0000000-0000-0000-0000-' || lpad(:u::text, 12, '0'))::uuid, 'patient_viewed',
        ('00000000-0000-0000-0000-' || lpad(:p::text, 12, '0'))::uuid,
        ('00000000-0000-0000-0001-' || lpad(:pr::text, 12, '0'))::uuid);
SQL
cat >"$work/many.sql" <<'SQL'
\set u random(1, 60)
\set p random(1, 1000000)
BEGIN;
INSERT INTO security.audit_logs (user_id, action, patient_id, practice_id)
SELECT ('b0000000-0000-0000-0000-' || lpad(((:u + g) % 60 + 1)::text, 12, '0'))::uuid, 'patient_viewed',
       ('00000000-0000-0000-0000-' || lpad((:p + g)::text, 12, '0'))::uuid,
       '00000000-0000-0000-0001-000000000001'
  FROM generate_series(1, 20) AS g;
SELECT pg_sleep(0.001 * random());
COMMIT;
SQL
cat >"$work/seal.sql" <<'SQL'
SELECT security.seal_audit_chain();
SELECT pg_sleep(0.05);
SQL

pgbench -n -c 4 -j 2 -T "$SECS" -f "$work/one.sql" "$DB" >"$work/one.log" 2>&1 &
p1=$!
pgbench -n -c 2 -j 1 -T "$SECS" -f "$work/many.sql" "$DB" >"$work/many.log" 2>&1 &
p2=$!
pgbench -n -c 1 -j 1 -T "$SECS" -f "$work/seal.sql" "$DB" >"$work/seal.log" 2>&1 &
p3=$!
rc=0
wait $p1 || rc=1
wait $p2 || rc=1
wait $p3 || rc=1
if (( rc != 0 )); then
    cat "$work"/*.log
    echo "FAIL: a pgbench client failed"
    exit 1
fi

result="$(psql -qXAt -F ' ' -d "$DB" -c "
    SELECT v.intact, v.rows_checked,
           (SELECT count(*) FROM security.audit_logs) + (SELECT count(*) FROM security.security_events),
           (SELECT count(*) = max(seq) AND count(DISTINCT (source, row_id)) = count(*) FROM security.audit_chain),
           (SELECT count(*) FROM security.security_events)
      FROM security.verify_audit_chain() AS v")"
read -r intact checked rows dense events <<<"$result"
echo "verify: intact=$intact rows_checked=$checked rows_in_tables=$rows dense_no_fork=$dense events=$events"
grep -h '^tps' "$work"/one.log "$work"/many.log | sed 's/^/pgbench: /'
if [[ "$intact" == t && "$checked" == "$rows" && "$dense" == t ]]; then
    echo "PASS"
    psql -qX -d postgres -c "DROP DATABASE $DB"
else
    echo "FAIL"
    exit 1
fi
