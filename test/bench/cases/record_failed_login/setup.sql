-- Baseline: a bare INSERT of the same attempt row into a table indexed exactly like
-- security.failed_login_attempts (same primary key, same three indexes).
DROP TABLE IF EXISTS public.bench_attempts;
CREATE TABLE public.bench_attempts (LIKE security.failed_login_attempts INCLUDING ALL);
-- Attempts spread over 100 000 accounts and ~65 000 addresses, as a spray would be.
