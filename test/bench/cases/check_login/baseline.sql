\set n random(1, 100000)
SELECT * FROM public.bench_accounts WHERE email = 'user' || :n || '@example.com';
