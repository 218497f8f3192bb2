#!/usr/bin/env bash
# rotate_keys killed half-way resumes with nothing lost or encrypted twice (SPEC §4):
#   1. the backend running CALL security.rotate_keys() is terminated (pg_terminate_backend);
#   2. the server crashes (pg_ctl -m immediate) in the middle of a rotation.
# Each time the next CALL resumes the same rotation, verify_key_rotation() reaches 0 and
# every value still decrypts to what was written; each value is re-encrypted exactly once.
set -euo pipefail
# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/../lib/cluster.sh"

DB=vlx_crash_keys
ROWS=${VLX_CRASH_ROWS:-20000}
KEY=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
FAILED=0

q() { vlx_psql -X -At -d "$DB" -c "$1"; }
check() {  # check NAME EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then echo "ok   - $1"; else echo "FAIL - $1: expected '$2', got '$3'"; FAILED=1; fi
}

vlx_psql -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
vlx_psql -q -d "$DB" \
    -c "CREATE EXTENSION vitaluxe_security" \
    -c "ALTER DATABASE $DB SET vitaluxe_security.master_key_command = 'echo $KEY'"
vlx_psql -q -d "$DB" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE TABLE order_lines (id bigint PRIMARY KEY, prescription text, custom_sig bytea);
INSERT INTO order_lines SELECT g, 'rx ' || g, convert_to('sig ' || g, 'UTF8') FROM generate_series(1, $ROWS) g;
SELECT security.protect_column('order_lines', 'prescription');
SELECT security.protect_column('order_lines', 'custom_sig');
SQL
TOTAL=$((ROWS * 2))
intact() {
    q "SELECT count(*) FILTER (WHERE prescription = 'rx ' || id AND convert_from(custom_sig, 'UTF8') = 'sig ' || id)
         FROM order_lines_decrypted"
}
check "all values readable before" "$ROWS" "$(intact)"

# Starts a rotation in the background (small batches: many commits) and waits until a few
# batches are committed.
start_rotation() {
    ( vlx_psql -X -q -d "$DB" -c "SET client_min_messages = warning" \
          -c "CALL security.rotate_keys(NULL, 20)" >/dev/null 2>&1 || true ) &
    ROTATION_PID=$!
    local i
    for i in $(seq 1 600); do
        [[ "$(q "SELECT coalesce(max(batches), 0) >= 20 FROM security.key_rotations WHERE status = 'running'")" == t ]] && return 0
        sleep 0.05
    done
    echo "FAIL - the rotation did not start"; FAILED=1
}

resume_and_check() {  # resume_and_check LABEL
    local label="$1" rotation
    rotation="$(q "SELECT id FROM security.key_rotations WHERE status = 'running'")"
    check "$label: rotation left running" "1" "$(q "SELECT count(*) FROM security.key_rotations WHERE status = 'running'")"
    check "$label: values left on the old key" "t" "$(q "SELECT security.verify_key_rotation() > 0")"
    check "$label: every value readable mid-rotation" "$ROWS" "$(intact)"
    vlx_psql -X -q -d "$DB" -c "SET client_min_messages = warning" -c "CALL security.rotate_keys(NULL, 1000)"
    check "$label: verify_key_rotation after resume" "0" "$(q "SELECT security.verify_key_rotation()")"
    check "$label: the same rotation finished" "done" "$(q "SELECT status FROM security.key_rotations WHERE id = $rotation")"
    check "$label: each value re-encrypted exactly once" "$TOTAL" \
        "$(q "SELECT values_reencrypted FROM security.key_rotations WHERE id = $rotation")"
    check "$label: every value readable after" "$ROWS" "$(intact)"
}

# 1. pg_terminate_backend
start_rotation
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = '$DB' AND query LIKE 'CALL security.rotate_keys(NULL, 20)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$ROTATION_PID" || true
resume_and_check "terminated backend"

# 2. server crash
start_rotation
vlx_cluster_crash
wait "$ROTATION_PID" || true
vlx_cluster_start
vlx_cluster_wait_ready
resume_and_check "server crash"

vlx_psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB"
[[ $FAILED -eq 0 ]] && echo "key_rotation_resume: all checks passed"
exit "$FAILED"
