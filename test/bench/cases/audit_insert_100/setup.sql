-- 1000 accounts (practice 1, UTC) and a plain copy of security.audit_logs: same columns,
-- defaults, constraints and indexes, no triggers.
INSERT INTO security.accounts (user_id, email, role, practice_id, timezone)
SELECT ('b0000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'bench' || g || '@clinic.test', 'provider',
       '00000000-0000-0000-0001-000000000001', 'UTC'
  FROM generate_series(1, 1000) AS g
ON CONFLICT DO NOTHING;
DROP TABLE IF EXISTS public.bench_audit_plain;
CREATE TABLE public.bench_audit_plain (LIKE security.audit_logs INCLUDING ALL);
