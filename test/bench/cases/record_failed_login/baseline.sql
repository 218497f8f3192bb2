\set n random(1, 1000000)
\set ip random(1, 16000000)
INSERT INTO public.bench_attempts (email, ip_address, user_agent, attempted_at, source, during_lockout)
VALUES ('user' || :n || '@example.com', '10.0.0.0'::inet + :ip, 'bench-agent/1.0', now(), 'app', false);
