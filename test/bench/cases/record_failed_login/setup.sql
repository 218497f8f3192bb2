-- Baseline: a bare INSERT of the same attempt row into a table indexed exactly like
-- security.failed_login_attempts (same primary key, same three indexes).
DROP TABLE IF EXISTS public.bench_attempts;
CREATE TABLE public.bench_attempts (LIKE security.failed_login_attempts INCLUDING ALL);
-- Attempts spread over a million accounts and 16 million addresses: the ordinary path
-- (a failure that locks nothing and opens no episode); the rare paths are measured by
-- the tests, not here.
