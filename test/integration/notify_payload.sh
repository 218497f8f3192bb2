#!/usr/bin/env bash
# NOTIFY security_alerts (SPEC section 2): each new event goes out on the channel with a
# JSON payload of identifiers and fixed vocabulary only: exactly the keys id, event_type,
# severity, priority; no email, no IP address, no other PHI.
#
# A brute force (5 failed logins on a fresh account) is triggered twice:
#   1. in the listening session itself (notifications are delivered to the notifying
#      session too, after commit);
#   2. from another session while a second psql listens (the real deployment shape).
# Each time exactly one brute_force notification must arrive, and its payload must match
# the security_events row it names.
#
# Env: PGHOST/PGPORT/PGUSER (a superuser). Uses database vlx_integration (created with the
# extension when missing); emails and addresses are unique to the run.
set -euo pipefail

DB=vlx_integration
fail() { echo "notify_payload: FAIL: $*"; exit 1; }
q() { psql -X -v ON_ERROR_STOP=1 -At -d "$DB" "$@"; }

work="$(mktemp -d)"
listener_pid=""
cleanup() { [[ -n "$listener_pid" ]] && kill "$listener_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [[ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")" != 1 ]]; then
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB" || fail "cannot create database $DB"
fi
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c 'SET client_min_messages = warning' \
    -c 'CREATE EXTENSION IF NOT EXISTS vitaluxe_security' || fail "cannot create the extension in $DB"

run_id="$(date +%s)-$$-${RANDOM}"
# An address of its own per attack, so no ip_multi_account event joins in.
rand_ip() { echo "10.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))"; }

five_failures() {  # email ip -> SQL
    local i
    for i in 1 2 3 4 5; do
        echo "SELECT (security.record_failed_login('$1', '$2', 'notify test')).reason;"
    done
}

# check_payloads FILE EMAIL IP LABEL: FILE holds psql's output with the notification lines.
check_payloads() {
    local file="$1" email="$2" ip="$3" label="$4" payloads n payload
    payloads="$(sed -n 's/^Asynchronous notification "security_alerts" with payload "\(.*\)" received from server process with PID [0-9]*\.$/\1/p' "$file")"
    n=$(printf '%s' "$payloads" | grep -c . || true)
    [[ "$n" -eq 1 ]] || { cat "$file"; fail "$label: expected exactly 1 notification on security_alerts, got $n"; }
    payload="$payloads"
    [[ "$payload" != *"$email"* && "$payload" != *"${email%@*}"* ]] || fail "$label: the payload contains the email: $payload"
    [[ "$payload" != *"$ip"* ]] || fail "$label: the payload contains the IP address: $payload"
    # Parse it as JSON on the server and compare with the event it names.
    local verdict
    verdict="$(q -v payload="$payload" -v email="$email" <<'SQL'
SELECT CASE
         WHEN jsonb_typeof(p) <> 'object' THEN 'not a JSON object'
         WHEN (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(p) k)
              <> ARRAY['event_type', 'id', 'priority', 'severity'] THEN
           'keys are ' || (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(p) k)
         WHEN jsonb_typeof(p->'id') <> 'number' THEN 'id is not a number'
         WHEN NOT EXISTS (SELECT 1 FROM security.security_events e
                           WHERE e.id = (p->>'id')::bigint AND e.email = :'email'
                             AND e.event_type = p->>'event_type' AND e.severity = p->>'severity'
                             AND e.priority = p->>'priority') THEN 'no matching security_events row'
         WHEN p->>'event_type' <> 'brute_force' OR p->>'severity' <> 'critical' OR p->>'priority' <> 'P0' THEN
           'unexpected values ' || p::text
         ELSE 'ok'
       END
  FROM (SELECT :'payload'::jsonb AS p) s;
SQL
)" || fail "$label: the payload is not valid JSON: $payload"
    [[ "$verdict" == ok ]] || fail "$label: $verdict (payload $payload)"
    echo "  $label: $payload"
}

# ---- 1. the listening session triggers the attack itself ---------------------------------
email1="notify-self-$run_id@example.com"
ip1="$(rand_ip)"
{ echo "LISTEN security_alerts;"; five_failures "$email1" "$ip1"; } >"$work/self.sql"
q -f "$work/self.sql" >"$work/self.out" 2>&1 || { cat "$work/self.out"; fail "same-session attack failed"; }
grep -q '^account_locked$' "$work/self.out" || { cat "$work/self.out"; fail "the 5th failure did not lock"; }
check_payloads "$work/self.out" "$email1" "$ip1" "same session"

# ---- 2. another session triggers it while this one listens -------------------------------
email2="notify-other-$run_id@example.com"
ip2="$(rand_ip)"
PGAPPNAME="vlx_notify_listener_$run_id" psql -X -v ON_ERROR_STOP=1 -d "$DB" \
    -c 'LISTEN security_alerts' -c 'SELECT pg_sleep(5)' >"$work/other.out" 2>&1 &
listener_pid=$!
# Wait until the listener sleeps (it has LISTENed by then).
for _ in $(seq 1 50); do
    [[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vlx_notify_listener_$run_id' AND query LIKE '%pg_sleep%'")" == 1 ]] && break
    sleep 0.1
done
five_failures "$email2" "$ip2" | q >"$work/attack.out" 2>&1 || { cat "$work/attack.out"; fail "the attack from another session failed"; }
wait "$listener_pid" || { cat "$work/other.out"; fail "the listening session failed"; }
listener_pid=""
check_payloads "$work/other.out" "$email2" "$ip2" "other session"

echo "notify_payload: PASS: brute_force alerts arrive on security_alerts (same and other session) with exactly id, event_type, severity, priority and no email or IP"
