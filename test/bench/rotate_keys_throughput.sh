#!/usr/bin/env bash
# rotate_keys throughput (SPEC §10: >= 50 000 values/s): times one
# CALL security.rotate_keys() over VLX_ROTATE_VALUES (200 000) protected values (half in a
# text column, half in a bytea column) and prints values/s.
#
#   bash test/bench/rotate_keys_throughput.sh     (own throwaway cluster, like run.sh)
# With VLX_CLUSTER_DIR / VLX_CLUSTER_PORT set (a runner's cluster) it uses that one.
# Env: VLX_ROTATE_VALUES, VLX_ROTATE_BATCH (1000).
set -euo pipefail
# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/../lib/cluster.sh"

VALUES=${VLX_ROTATE_VALUES:-200000}
BATCH=${VLX_ROTATE_BATCH:-1000}
ROWS=$((VALUES / 2))
DB=vlx_rotate_bench
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

if [[ -z "${VLX_CLUSTER_DIR:-}" ]]; then
    # shellcheck source=test/lib/deps.sh
    source "$VLX_ROOT/test/lib/deps.sh"
    vlx_use_pg_path
    vlx_build_install || vlx_die "the extension did not build or install"
    vlx_cluster_setup rotate_bench 54326
    vlx_cluster_trap
    vlx_cluster_init
    vlx_cluster_set synchronous_commit off
    vlx_cluster_start || vlx_die "the cluster did not start"
fi

vlx_psql -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
vlx_psql -q -d "$DB" -c "CREATE EXTENSION vitaluxe_security" \
    -c "ALTER DATABASE $DB SET vitaluxe_security.master_key_command = 'echo $KEY'"
vlx_psql -q -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
SET synchronous_commit = off;
CREATE TABLE order_lines (id bigint PRIMARY KEY, prescription text, custom_sig bytea);
INSERT INTO order_lines
SELECT g, 'Rx ' || g || ': amoxicillin 500 mg, 1 capsule three times a day for 10 days',
       convert_to('Sig ' || g || ': take with food', 'UTF8')
  FROM generate_series(1, $ROWS) g;
SELECT security.protect_column('order_lines', 'prescription');
SELECT security.protect_column('order_lines', 'custom_sig');
VACUUM ANALYZE order_lines;
SQL

START=$(date +%s.%N)
vlx_psql -X -q -d "$DB" -c "SET client_min_messages = warning" -c "SET synchronous_commit = off" \
    -c "CALL security.rotate_keys(NULL, $BATCH)"
END=$(date +%s.%N)
DONE=$(vlx_psql -X -At -d "$DB" -c "SELECT values_reencrypted FROM security.key_rotations ORDER BY id DESC LIMIT 1")
LEFT=$(vlx_psql -X -At -d "$DB" -c "SELECT security.verify_key_rotation()")
awk -v n="$DONE" -v s="$START" -v e="$END" -v b="$BATCH" -v left="$LEFT" 'BEGIN {
    t = e - s
    printf "rotate_keys: %d values re-encrypted in %.2f s (batch_size %d): %.0f values/s; verify_key_rotation() = %d\n", n, t, b, n / t, left
    printf "target >= 50000 values/s: %s\n", (n / t >= 50000) ? "meets" : "below"
}'
vlx_psql -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB"
