-- Native building blocks every other part uses: the clock, the actor, library facts.

CREATE FUNCTION security.now() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'vlx_now'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION security.now() IS
    'The extension''s clock: now() plus the superuser-only setting vitaluxe_security.clock_offset.';

CREATE FUNCTION security.actor() RETURNS text
    AS 'MODULE_PATHNAME', 'vlx_actor'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION security.actor() IS
    'Who is acting: vitaluxe_security.actor when the application set it, else session_user.';

CREATE FUNCTION security.preload_active() RETURNS boolean
    AS 'MODULE_PATHNAME', 'vlx_preload_active'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION security.preload_active() IS
    'Whether the library was loaded through shared_preload_libraries (hooks, worker, shared memory).';

CREATE FUNCTION security._boundary_selftest(kind text) RETURNS text
    AS 'MODULE_PATHNAME', 'vlx_boundary_selftest'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION security._boundary_selftest(text) IS
    'Superuser-only test hook: raises one kind of failure across the C/C++ boundary.';
