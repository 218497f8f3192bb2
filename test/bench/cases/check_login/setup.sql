-- 100 000 accounts with login state, a few blocked networks; the baseline is a primary-key
-- SELECT of an account row by email.
DROP TABLE IF EXISTS public.bench_accounts;
CREATE TABLE public.bench_accounts (email text PRIMARY KEY, locked_until timestamptz, failures int);
INSERT INTO public.bench_accounts SELECT 'user' || g || '@example.com', NULL, 0 FROM generate_series(1, 100000) g;
INSERT INTO security.login_state (email)
SELECT 'user' || g || '@example.com' FROM generate_series(1, 100000) g ON CONFLICT DO NOTHING;
SELECT security.block_ip('192.0.2.0/24', 'bench: documentation network') WHERE NOT EXISTS (SELECT 1 FROM security.blocked_ips);
ANALYZE;
