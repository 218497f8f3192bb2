#!/usr/bin/env bash
# The application keeps writing while CALL security.rotate_keys() runs (SPEC §4): pgbench
# clients update and insert protected rows during the whole rotation. Checks: no client
# error, no write waits long (no table lock, row locks only: max latency bounded), the
# rotation finishes with verify_key_rotation() = 0, and every row reads back exactly
# what its last write wrote (nothing lost, nothing double-encrypted).
set -euo pipefail
# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/../lib/cluster.sh"

DB=vlx_stress_keys
ROWS=${VLX_STRESS_ROWS:-30000}
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
MAX_LATENCY_MS=${VLX_STRESS_MAX_LATENCY_MS:-2000}
FAILED=0
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

q() { vlx_psql -X -At -d "$DB" -c "$1"; }
check() {
    if [[ "$2" == "$3" ]]; then echo "ok   - $1"; else echo "FAIL - $1: expected '$2', got '$3'"; FAILED=1; fi
}

vlx_psql -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
vlx_psql -q -d "$DB" -c "CREATE EXTENSION vitaluxe_security" \
    -c "ALTER DATABASE $DB SET vitaluxe_security.master_key_command = 'echo $KEY'"
vlx_psql -q -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
-- version counts the writes to a row: the value always says which write it was
CREATE TABLE order_lines (id bigint PRIMARY KEY, version integer NOT NULL DEFAULT 0, prescription text);
INSERT INTO order_lines SELECT g, 0, 'rx ' || g || ' v0' FROM generate_series(1, $ROWS) g;
SELECT security.protect_column('order_lines', 'prescription');
SQL

cat >"$WORK/app.sql" <<EOF2
\set id random(1, $ROWS)
UPDATE order_lines SET version = version + 1, prescription = 'rx ' || id || ' v' || (version + 1) WHERE id = :id;
\set n random($((ROWS + 1)), $((ROWS * 100)))
INSERT INTO order_lines (id, version, prescription) VALUES (:n, 0, 'rx ' || :n || ' v0') ON CONFLICT (id) DO NOTHING;
EOF2

# The application: 2 clients for the whole rotation.
pgbench -n -c 2 -j 2 -T "${VLX_STRESS_SECONDS:-8}" -l --log-prefix="$WORK/tx" -f "$WORK/app.sql" "$DB" \
    >"$WORK/pgbench.out" 2>&1 &
BENCH=$!
sleep 1
# While the rotation runs, sample the locks held on the table: nothing stronger than
# ROW EXCLUSIVE may ever appear.
( while :; do
      q "SELECT mode FROM pg_locks WHERE locktype = 'relation' AND relation = 'order_lines'::regclass
          AND mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')" >>"$WORK/strong_locks" 2>/dev/null || true
      sleep 0.02
  done ) &
SAMPLER=$!
START=$(date +%s.%N)
vlx_psql -X -q -d "$DB" -c "SET client_min_messages = warning" -c "CALL security.rotate_keys(NULL, 200)"
END=$(date +%s.%N)
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
ROTATION_DONE_WHILE_APP_RAN=$(kill -0 "$BENCH" 2>/dev/null && echo t || echo f)
wait "$BENCH" || { echo "FAIL - pgbench failed"; cat "$WORK/pgbench.out"; FAILED=1; }
echo "rotation took $(awk -v a="$START" -v b="$END" 'BEGIN { printf "%.2f", b - a }') s while the application wrote"
grep -E "^(number of transactions actually processed|number of failed|latency average|tps)" "$WORK/pgbench.out" || true

check "rotation finished while the application was still writing" "t" "$ROTATION_DONE_WHILE_APP_RAN"
check "no failed application transaction" "0" "$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.out" | head -1 | sed 's/^$/0/')"
MAX_US=$(cat "$WORK"/tx* | awk 'BEGIN { m = 0 } { if ($3 > m) m = $3 } END { print m }')
echo "slowest application transaction: $((MAX_US / 1000)) ms"
check "no application transaction waited ${MAX_LATENCY_MS} ms or more" "t" \
    "$([[ $((MAX_US / 1000)) -lt $MAX_LATENCY_MS ]] && echo t || echo f)"
check "no lock stronger than ROW EXCLUSIVE on the table during rotation" "0" \
    "$(grep -c . "$WORK/strong_locks" 2>/dev/null || true)"
[[ -s "$WORK/strong_locks" ]] && sort "$WORK/strong_locks" | uniq -c
check "verify_key_rotation after rotation" "0" "$(q "SELECT security.verify_key_rotation()")"
check "every row reads back its last write" \
    "$(q "SELECT count(*) FROM order_lines")" \
    "$(q "SELECT count(*) FILTER (WHERE prescription = 'rx ' || id || ' v' || version) FROM order_lines_decrypted")"
check "the rotation finished" "done" "$(q "SELECT status FROM security.key_rotations ORDER BY id DESC LIMIT 1")"

vlx_psql -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB"
[[ $FAILED -eq 0 ]] && echo "key_rotation_concurrent_writes: all checks passed"
exit "$FAILED"
