#!/usr/bin/env bash
# The PHI shared memory is per cluster, the extension per database: entries that dropped
# databases and dropped extensions leave behind must not fill the fixed user table.
#   1. database A: 2 100 users access PHI (more than the 2 048 shared entries): the ones
#      that did not fit are judged on the rule tables (users_refused > 0), not lost;
#   2. A is dropped; in database B 500 new users access PHI: the table frees A's entries
#      first, so none of B's users is refused, and B's rules work (a rate event);
#   3. the extension in B is dropped and re-created: its users start afresh.
# (The users are not in security.accounts: each also raises phi_cross_practice as unknown.)
# Without shared_preload_libraries there is no shared memory: the script says so and passes.
# Env: PGHOST/PGPORT/PGUSER (a superuser).
set -euo pipefail
fail() { echo "phi_shared_reuse: FAIL: $*"; exit 1; }
q() { psql -X -v ON_ERROR_STOP=1 -At -d "$@"; }

psql -X -q -d postgres -c 'SET client_min_messages = warning' \
    -c 'DROP DATABASE IF EXISTS vlx_shared_a' -c 'DROP DATABASE IF EXISTS vlx_shared_b' \
    -c 'CREATE DATABASE vlx_shared_a' -c 'CREATE DATABASE vlx_shared_b'
for db in vlx_shared_a vlx_shared_b; do
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'SET client_min_messages = warning' \
        -c 'CREATE EXTENSION vitaluxe_security'
done
if [[ "$(q vlx_shared_a -c 'SELECT security.preload_active()')" != t ]]; then
    echo "phi_shared_reuse: not preloaded, no shared memory to check: PASS (nothing to do)"
    exit 0
fi

users_sql() {  # database first_user count
    q "$1" -c "INSERT INTO security.audit_logs (user_id, action, patient_id)
               SELECT ('c0000000-0000-0000-0000-' || lpad((u)::text, 12, '0'))::uuid, 'patient_viewed',
                      ('00000000-0000-0000-0000-' || lpad((u)::text, 12, '0'))::uuid
                 FROM generate_series($2, $2 + $3 - 1) AS u" >/dev/null
}

# 1. more users than the table holds (in statements of 300 users)
before_refused="$(q vlx_shared_a -c 'SELECT users_refused FROM security.phi_shared_state()')"
for start in $(seq 1 300 2100); do users_sql vlx_shared_a "$start" 300; done
refused="$(q vlx_shared_a -c 'SELECT users_refused FROM security.phi_shared_state()')"
(( refused > before_refused )) || fail "2 100 users fitted in 2 048 entries? refused $before_refused -> $refused"
rows="$(q vlx_shared_a -c 'SELECT count(*) FROM security.audit_logs')"
[[ "$rows" == 2100 ]] || fail "database A logged $rows rows, expected 2100"
[[ "$(q vlx_shared_a -c 'SELECT intact FROM security.verify_audit_chain()')" == t ]] || fail "A's chain does not verify"

# 2. A is dropped; B's new users find room
psql -X -q -d postgres -c 'DROP DATABASE vlx_shared_a'
refused="$(q vlx_shared_b -c 'SELECT users_refused FROM security.phi_shared_state()')"
users_sql vlx_shared_b 100001 500
after="$(q vlx_shared_b -c 'SELECT users_refused FROM security.phi_shared_state()')"
[[ "$after" == "$refused" ]] || fail "database B's users were refused after A was dropped ($refused -> $after)"
# B's rules work from shared memory: one user reads 60 patients -> one rate event
q vlx_shared_b -c "INSERT INTO security.audit_logs (user_id, action, patient_id)
                   SELECT 'c0000000-0000-0000-0000-000000100001', 'patient_viewed',
                          ('00000000-0000-0000-0000-' || lpad((200000 + g)::text, 12, '0'))::uuid
                     FROM generate_series(1, 60) AS g" >/dev/null
events="$(q vlx_shared_b -c "SELECT count(*) || ':' || max(access_count) FROM security.phi_events WHERE event_type = 'phi_access_rate'")"
[[ "$events" == "1:12" ]] || fail "database B: rate events:count $events, expected 1:12"

# 3. a re-created extension starts afresh (no event slot of the old one survives)
psql -X -q -v ON_ERROR_STOP=1 -d vlx_shared_b -c 'SET client_min_messages = warning' \
    -c 'DROP EXTENSION vitaluxe_security CASCADE' -c 'CREATE EXTENSION vitaluxe_security'
q vlx_shared_b -c "INSERT INTO security.audit_logs (user_id, action, patient_id)
                   SELECT 'c0000000-0000-0000-0000-000000100001', 'patient_viewed',
                          ('00000000-0000-0000-0000-' || lpad((300000 + g)::text, 12, '0'))::uuid
                     FROM generate_series(1, 49) AS g" >/dev/null
[[ "$(q vlx_shared_b -c "SELECT count(*) FROM security.security_events WHERE event_type = 'phi_access_rate'")" == 0 ]] \
    || fail "the re-created extension inherited rate state (49 patients raised an event)"
# the 50th patient raises a new event counted from zero (inherited buckets and an
# inherited open slot would have swallowed it)
q vlx_shared_b -c "INSERT INTO security.audit_logs (user_id, action, patient_id)
                   VALUES ('c0000000-0000-0000-0000-000000100001', 'patient_viewed',
                           '00000000-0000-0000-0000-000000300050')" >/dev/null
fresh="$(q vlx_shared_b -c "SELECT count(*) || ':' || max(attempt_count) FROM security.security_events WHERE event_type = 'phi_access_rate'")"
[[ "$fresh" == "1:50" ]] || fail "after re-creating the extension the 50th patient gave rate events:attempts $fresh, expected 1:50"
[[ "$(q vlx_shared_b -c 'SELECT intact FROM security.verify_audit_chain()')" == t ]] || fail "B's chain does not verify"

psql -X -q -d postgres -c 'DROP DATABASE vlx_shared_b'
echo "phi_shared_reuse: PASS: $refused users refused while A was full, none in B after A was dropped, a re-created extension starts afresh"
