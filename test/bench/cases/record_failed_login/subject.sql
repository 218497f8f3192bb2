\set n random(1, 1000000)
\set ip random(1, 16000000)
SELECT security.record_failed_login('user' || :n || '@example.com', '10.0.0.0'::inet + :ip, 'bench-agent/1.0');
