\set n random(1, 100000)
\set ip random(1, 65000)
SELECT * FROM security.check_login('user' || :n || '@example.com', '10.0.0.0'::inet + :ip);
