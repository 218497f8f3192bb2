#!/usr/bin/env bash
# The seal ring lives in shared memory and a crash empties it (SPEC §3: the chain must
# not lose committed rows). Committed audit rows that were still waiting in the ring when
# the server crashed (pg_ctl -m immediate) are found by the first sealer after the
# restart (a rescan from the horizon the last seal recorded) and chained exactly once:
# verify_audit_chain() is intact and counts every row. Without preload the rows wait in
# the seal queue table instead, which survives the crash anyway; the checks are the same.
set -euo pipefail
# shellcheck source=test/lib/cluster.sh
source "$(dirname "$0")/../lib/cluster.sh"

DB=vlx_crash_phi
FAILED=0
q() { vlx_psql -X -At -d "$DB" -c "$1"; }
check() {  # check NAME EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then echo "ok   - $1"; else echo "FAIL - $1: expected '$2', got '$3'"; FAILED=1; fi
}
insert() {  # n rows of one user in one statement, committed durably (the test cluster
            # runs with synchronous_commit off, which may lose the last commits in a crash)
    q "SET synchronous_commit = on; INSERT INTO security.audit_logs (user_id, action, patient_id)
       SELECT 'd0000000-0000-0000-0000-000000000001', 'patient_viewed',
              ('00000000-0000-0000-0000-' || lpad(($2 + g)::text, 12, '0'))::uuid
         FROM generate_series(1, $1) AS g" >/dev/null
}

vlx_psql -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
vlx_psql -q -d "$DB" -c "CREATE EXTENSION vitaluxe_security"

# Some rows sealed, then more committed and left unsealed (one small statement per
# session does not reach the ring's seal threshold).
insert 30 0
q 'SELECT security.seal_audit_chain()' >/dev/null
check "first rows sealed" "30" "$(q 'SELECT count(*) FROM security.audit_chain WHERE source = 1')"
for i in 1 2 3 4 5; do insert 7 $((100 * i)); done
chained_before="$(q 'SELECT count(*) FROM security.audit_chain WHERE source = 1')"
echo "     rows chained before the crash: $chained_before of 65"

vlx_cluster_crash
vlx_cluster_start
vlx_cluster_wait_ready

check "every committed row survived the crash" "65" "$(q 'SELECT count(*) FROM security.audit_logs')"
# The next insert seals (a new segment asks for a rescan); then verify seals the rest.
insert 1 1000
check "the chain is intact after the restart" "t" "$(q 'SELECT intact FROM security.verify_audit_chain()')"
check "every audit row is chained exactly once" "66:66" \
    "$(q 'SELECT count(*) || chr(58) || count(DISTINCT row_id) FROM security.audit_chain WHERE source = 1')"
check "no row is left unchained" "" \
    "$(q 'SELECT a.id FROM security.audit_logs a WHERE NOT EXISTS (SELECT 1 FROM security.audit_chain c WHERE c.source = 1 AND c.row_id = a.id) LIMIT 1')"

vlx_psql -q -d postgres -c "DROP DATABASE $DB"
exit "$FAILED"
