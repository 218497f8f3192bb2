-- The C/C++ boundary: a failure raised on either side of it arrives as a clean ERROR with
-- its own SQLSTATE, C++ resources are released on the way, and the session carries on.

-- What arrives, as SQLSTATE and message (plpgsql catches it in a subtransaction).
CREATE FUNCTION pg_temp.outcome(kind text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN 'returned ' || security._boundary_selftest(kind);
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT security._boundary_selftest('ok');

-- A C++ exception thrown by the core becomes 22023 (invalid_parameter_value), with detail.
SELECT security._boundary_selftest('core_error');
SELECT pg_temp.outcome('core_error');

-- An unexpected std::exception is reported as an internal error, never a crash.
SELECT pg_temp.outcome('std_exception');

-- std::bad_alloc becomes out_of_memory (53200).
SELECT pg_temp.outcome('bad_alloc');

-- A PostgreSQL error raised by SPI beneath a core frame that holds a secret buffer:
-- the original error (22012 division_by_zero) arrives unchanged, and the buffer was wiped
-- while the C++ frames unwound.
SELECT security._boundary_selftest('secrets_wiped')::bigint AS wiped_before \gset
SELECT security._boundary_selftest('pg_error_beneath_core');
SELECT security._boundary_selftest('secrets_wiped')::bigint - :wiped_before AS buffers_wiped_during_unwind;
SELECT pg_temp.outcome('pg_error_beneath_core');

-- The session carries on: inside a transaction the error aborts it as usual, and after
-- ROLLBACK everything works again.
BEGIN;
SELECT security._boundary_selftest('pg_error_beneath_core');
SELECT 1;
ROLLBACK;
SELECT security._boundary_selftest('ok') AS after_rollback;

-- Bad input to the selftest itself: a clear 22023 with a hint, and NULL is simply NULL.
SELECT security._boundary_selftest('no_such_kind');
SELECT security._boundary_selftest(NULL) IS NULL AS strict_on_null;

-- Only superusers may call it.
SET ROLE security_admin;
SELECT security._boundary_selftest('ok');
RESET ROLE;
