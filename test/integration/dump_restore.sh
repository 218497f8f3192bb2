#!/usr/bin/env bash
# pg_dump keeps the extension's data (SPEC section 0): a database with rows in the security
# tables is dumped and restored into a new database, and every row comes back, with no
# duplicate of the rows the extension ships itself (builtin severity levels and contact),
# and a restored database that still works (the login rules see the restored attempts).
#
# Env: PGHOST/PGPORT/PGUSER (a superuser). Uses databases vlx_dump_src and vlx_dump_dst.
set -euo pipefail

SRC=vlx_dump_src
DST=vlx_dump_dst
fail() { echo "dump_restore: FAIL: $*"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for db in "$SRC" "$DST"; do
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done

psql -X -q -v ON_ERROR_STOP=1 -d "$SRC" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION vitaluxe_security;
INSERT INTO security.accounts (user_id, email, role, practice_id, is_admin, timezone)
VALUES ('00000000-0000-4000-8000-000000000001', 'dump.provider@example.com', 'provider',
        '00000000-0000-4000-8000-0000000000aa', false, 'America/New_York');
INSERT INTO security.contacts (role, email) VALUES ('legal', 'legal@vitaluxeservice.com');
SELECT security.block_ip('192.0.2.0/24', 'dump test');
-- Four failures: the fifth after the restore must lock (the restored attempts count).
SELECT v.allowed FROM generate_series(1, 4) g,
       LATERAL security.record_failed_login('dump.provider@example.com', '198.51.100.1', 'ua ' || g) v;
-- A full lockout with its event and notifications.
SELECT v.allowed FROM generate_series(1, 5) g,
       LATERAL security.record_failed_login('dump.locked@example.com', '198.51.100.2', 'ua ' || g) v;
SQL

counts="SELECT string_agg(t || '=' || n, ' ' ORDER BY t) FROM (
  SELECT 'accounts' t, count(*) n FROM security.accounts UNION ALL
  SELECT 'attempts', count(*) FROM security.failed_login_attempts UNION ALL
  SELECT 'lockouts', count(*) FROM security.account_lockouts UNION ALL
  SELECT 'login_state', count(*) FROM security.login_state UNION ALL
  SELECT 'blocks', count(*) FROM security.blocked_ips UNION ALL
  SELECT 'events', count(*) FROM security.security_events UNION ALL
  SELECT 'notifications', count(*) FROM security.notifications UNION ALL
  SELECT 'contacts', count(*) FROM security.contacts UNION ALL
  SELECT 'severity_levels', count(*) FROM security.severity_levels) x"
before="$(psql -X -At -d "$SRC" -c "$counts")"

pg_dump -Fc -d "$SRC" -f "$work/src.dump" || fail "pg_dump failed"
pg_restore --exit-on-error -d "$DST" "$work/src.dump" 2>"$work/restore.err" \
    || { cat "$work/restore.err"; fail "pg_restore failed"; }
after="$(psql -X -At -d "$DST" -c "$counts")"
[[ "$before" == "$after" ]] || fail "rows differ after restore: before [$before] after [$after]"

# The restored database works: the fifth failure locks, the block still holds, the legal
# contact overrides the fallback, and a new row gets a fresh id (sequences were dumped).
check="$(psql -X -At -v ON_ERROR_STOP=1 -d "$DST" <<'SQL'
SELECT (v).reason FROM (SELECT security.record_failed_login('dump.provider@example.com', '198.51.100.1', 'after') v) x;
SELECT (security.check_login('someone@example.com', '192.0.2.9')).reason;
SELECT security.contact_email('legal');
SELECT (SELECT max(id) FROM security.failed_login_attempts) > 9;
SQL
)"
expected="account_locked
ip_blocked
legal@vitaluxeservice.com
t"
[[ "$check" == "$expected" ]] || fail "restored database behaves differently: got [$check]"
echo "dump_restore: PASS: $after restored, rules work on the restored data"
