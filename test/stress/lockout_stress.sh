#!/usr/bin/env bash
# The race of SPEC section 1 under load: 32 concurrent clients x 20 failed logins on ONE
# account (pgbench -c 32 -j 2 -t 20). Must hold: every one of the 640 attempts recorded,
# exactly one lockout (active), exactly one brute_force event, 5 attempts counted and the
# rest recorded during the lockout, and no error of any kind reaches a client (no
# deadlock, no unique violation): pgbench reports 0 failed transactions.
#
# Env: PGHOST/PGPORT/PGUSER (a superuser) as for psql. Creates database vlx_stress with
# the extension if missing; the account's email is unique to the run, so nothing needs
# to be deleted before or after.
# Last line: "lockout_stress: PASS ..." (exit 0) or "lockout_stress: FAIL ..." (exit 1).
set -euo pipefail

CLIENTS=32
PER_CLIENT=20
EXPECTED=$((CLIENTS * PER_CLIENT))
DB=vlx_stress

fail() { echo "lockout_stress: FAIL: $*"; exit 1; }
command -v pgbench >/dev/null || fail "pgbench not found in PATH"
q() { psql -X -v ON_ERROR_STOP=1 -At -d "$DB" -c "$1"; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")" != 1 ]]; then
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB" || fail "cannot create database $DB"
fi
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c 'SET client_min_messages = warning' \
    -c 'CREATE EXTENSION IF NOT EXISTS vitaluxe_security' || fail "cannot create the extension in $DB"

email="stress-$(date +%s)-$$-${RANDOM}@example.com"

# Clients share four source addresses, so the per-IP state is contended as well.
cat > "$work/failure.sql" <<SQL
SELECT v.reason FROM security.record_failed_login('$email', ('198.51.100.' || (:client_id % 4 + 1))::inet, 'stress client ' || :client_id) v;
SQL

started=$(date +%s.%N)
set +e
pgbench -n -c "$CLIENTS" -j 2 -t "$PER_CLIENT" -f "$work/failure.sql" "$DB" >"$work/pgbench.out" 2>&1
rc=$?
set -e
elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

show_log() { echo "---- pgbench output ----"; cat "$work/pgbench.out"; echo "------------------------"; }
if [[ $rc -ne 0 ]]; then show_log; fail "pgbench exited with status $rc"; fi
if grep -Eq 'ERROR|FATAL|deadlock|duplicate key|aborted' "$work/pgbench.out"; then
    show_log; fail "an error reached a client (see the pgbench output above)"
fi
processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out")
[[ "$processed" == "$EXPECTED" ]] || { show_log; fail "pgbench processed ${processed:-?} transactions, expected $EXPECTED"; }
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")
[[ -z "$failed" || "$failed" == 0 ]] || { show_log; fail "pgbench reported $failed failed transactions"; }

e="'$email'"
attempts=$(q "SELECT count(*) FROM security.failed_login_attempts WHERE email = $e")
counted=$(q "SELECT count(*) FROM security.failed_login_attempts WHERE email = $e AND NOT during_lockout")
lockouts=$(q "SELECT count(*) FROM security.account_lockouts WHERE email = $e")
active=$(q "SELECT count(*) FROM security.account_lockouts WHERE email = $e AND unlocked_at IS NULL AND (locked_until IS NULL OR locked_until > security.now())")
lock_attempts=$(q "SELECT coalesce(string_agg(attempt_count::text, ','), '') FROM security.account_lockouts WHERE email = $e")
events=$(q "SELECT count(*) FROM security.security_events WHERE email = $e AND event_type = 'brute_force'")
verdict=$(q "SELECT (v).reason FROM (SELECT security.check_login($e, '198.51.100.1') AS v) s")

problems=()
[[ "$attempts" == "$EXPECTED" ]] || problems+=("$attempts attempts recorded, expected $EXPECTED")
[[ "$counted" == 5 ]] || problems+=("$counted attempts counted toward the lockout, expected 5 (the rest during the lockout)")
[[ "$lockouts" == 1 ]] || problems+=("$lockouts lockouts, expected exactly 1")
[[ "$active" == 1 ]] || problems+=("$active active lockouts, expected exactly 1")
[[ "$lock_attempts" == 5 ]] || problems+=("lockout attempt_count '$lock_attempts', expected 5")
[[ "$events" == 1 ]] || problems+=("$events brute_force events, expected exactly 1")
[[ "$verdict" == account_locked ]] || problems+=("check_login says '$verdict', expected account_locked")
if [[ ${#problems[@]} -gt 0 ]]; then
    printf '  - %s\n' "${problems[@]}"
    fail "${#problems[@]} invariant(s) violated for $email"
fi

tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$work/pgbench.out" | head -1)
echo "lockout_stress: PASS: $CLIENTS clients x $PER_CLIENT failures on one account in ${elapsed}s (tps ${tps:-?}): $attempts attempts recorded ($counted counted, $((attempts - counted)) during the lockout), $lockouts lockout, $events brute_force event, 0 errors"
