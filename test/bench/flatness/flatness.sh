#!/usr/bin/env bash
# Flatness of the audit_logs insert cost (SPEC section 10), against a running cluster
# (PGHOST/PGPORT/PGUSER in the environment):
#   burst  one user inserts 20 000 accesses inside the rate window, 1 000 per pgbench
#          run (single client, one row per transaction); compares the mean latency of
#          the first and the last 1 000 (target: last <= 1.2 x first).
#   size   single-row insert latency (random users) on a log of LOG_SMALL rows and on
#          one of LOG_LARGE rows (default 10 000 and 1 000 000), the large one built
#          through the triggers in 10 000-row statements over 1 000 users and 30 days.
# Usage: bash test/bench/flatness/flatness.sh [burst|size|all]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../../.."
mode="${1:-all}"
DB=vlx_flat
LOG_SMALL="${LOG_SMALL:-10000}"
LOG_LARGE="${LOG_LARGE:-1000000}"

fresh_db() {
    psql -qd postgres -c 'SET client_min_messages = warning' -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    psql -qd "$DB" -c 'CREATE EXTENSION vitaluxe_security CASCADE'
    psql -qd "$DB" -f "$root/test/bench/cases/audit_insert_1/setup.sql" >/dev/null
}

latency_ms() {  # pgbench args... -> mean latency in ms
    pgbench -n "$@" "$DB" 2>&1 | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'
}

burst() {
    fresh_db
    local i l all=()
    for i in $(seq 1 20); do
        l="$(latency_ms -c 1 -j 1 -t 1000 -f "$here/one_user.sql")"
        all+=("$l")
        echo "burst: accesses $(( (i - 1) * 1000 + 1 ))-$(( i * 1000 )): mean latency $l ms"
    done
    psql -qAtd "$DB" -c "SELECT 'burst: events ' || count(*) || ', running count ' || max(access_count) FROM security.phi_events"
    echo "burst: first 1000 ${all[0]} ms, last 1000 ${all[19]} ms, ratio $(awk -v a="${all[0]}" -v b="${all[19]}" 'BEGIN { printf "%.3f", b / a }')"
    # One block is noisy on a shared machine: the medians of the first and last five too.
    local head tail
    head="$(printf '%s\n' "${all[@]:0:5}" | LC_ALL=C sort -g | sed -n 3p)"
    tail="$(printf '%s\n' "${all[@]:15:5}" | LC_ALL=C sort -g | sed -n 3p)"
    echo "burst: median of blocks 1-5 $head ms, of blocks 16-20 $tail ms, ratio $(awk -v a="$head" -v b="$tail" 'BEGIN { printf "%.3f", b / a }')"
}

build_log() {  # rows
    local rows=$1 done=0 batch=10000
    while (( done < rows )); do
        (( batch > rows - done )) && batch=$(( rows - done ))
        psql -qd "$DB" -c "
            INSERT INTO security.audit_logs (occurred_at, user_id, action, patient_id, practice_id)
            SELECT security.now() - interval '30 days' + ($done + g) * (interval '30 days' / $rows),
                   ('b0000000-0000-0000-0000-' || lpad((1 + ($done + g) % 1000)::text, 12, '0'))::uuid,
                   'patient_viewed',
                   ('00000000-0000-0000-0000-' || lpad((($done + g) % 200000)::text, 12, '0'))::uuid,
                   '00000000-0000-0000-0001-000000000001'
              FROM generate_series(1, $batch) AS g"
        done=$(( done + batch ))
    done
    psql -qd "$DB" -c 'SELECT security.seal_audit_chain()' -c 'VACUUM ANALYZE'
}

size() {
    local n l t0 t1
    for n in "$LOG_SMALL" "$LOG_LARGE"; do
        fresh_db
        t0=$(date +%s)
        build_log "$n"
        t1=$(date +%s)
        l="$(latency_ms -c 1 -j 1 -T 10 -f "$root/test/bench/cases/audit_insert_1/subject.sql")"
        echo "size: log of $(psql -qAtd "$DB" -c 'SELECT count(*) FROM security.audit_logs') rows (built in $(( t1 - t0 )) s): single-row insert mean latency $l ms"
    done
}

case "$mode" in
    burst) burst ;;
    size) size ;;
    all) burst; size ;;
esac
