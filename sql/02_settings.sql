-- Every setting of SPEC is a vitaluxe_security.* GUC with its default, unit and bounds,
-- defined as soon as the library is loaded (with or without shared_preload_libraries).
-- With preload every session has them; without it, a session gets them the first time it
-- uses the extension (any security.* call) or, as here, with LOAD.
LOAD 'vitaluxe_security';

SELECT name, setting, unit, vartype, context, min_val, max_val
  FROM pg_settings
 WHERE name LIKE 'vitaluxe_security.%'
 ORDER BY name;

SHOW vitaluxe_security.lockout_threshold;
SHOW vitaluxe_security.lockout_window;
SHOW vitaluxe_security.key_max_age;

-- Bounds and grammars are enforced with a clear error.
SET vitaluxe_security.lockout_threshold = 0;
SET vitaluxe_security.lockout_backoff = 0.5;
SET vitaluxe_security.clock_offset = '1 month';
SET vitaluxe_security.clock_offset = '40000 days';
SET vitaluxe_security.unusual_hours = '3am-5am';
SET vitaluxe_security.phi_cross_practice_roles = 'Admin';
SET vitaluxe_security.timezone = 'Mars/Olympus_Mons';
SET vitaluxe_security.key_max_encryptions = '4294967297';
SET vitaluxe_security.master_key_file = 'relative/path.hex';
SET vitaluxe_security.order_allowed_states = 'ca,ny';
SET vitaluxe_security.timezone = 'America/New_York';
SHOW vitaluxe_security.timezone;
RESET vitaluxe_security.timezone;

-- The prefix is reserved: a misspelt setting is an error, not a silent placeholder.
SET vitaluxe_security.lockout_treshold = 3;

-- The clock: security.now() is now() plus clock_offset, forwards or backwards.
SELECT security.now() = now() AS clock_at_rest;
SET vitaluxe_security.clock_offset = '2 hours 30 min';
SELECT security.now() - now() AS offset_applied;
SET vitaluxe_security.clock_offset = '-1 day';
SELECT security.now() - now() AS offset_applied;
RESET vitaluxe_security.clock_offset;

-- The actor: session_user unless the application says who is acting.
SELECT security.actor() = session_user AS actor_is_session_user;
BEGIN;
SET LOCAL vitaluxe_security.actor = 'oncall.admin@vitaluxeservice.com';
SELECT security.actor();
COMMIT;
SELECT security.actor() = session_user AS actor_reset_after_commit;

-- Nothing that could weaken a rule can be changed by a non-superuser; the actor can.
SET ROLE security_app;
SET vitaluxe_security.lockout_threshold = 1000;
SET vitaluxe_security.clock_offset = '1 hour';
SET vitaluxe_security.actor = 'app';
SHOW vitaluxe_security.master_key_command;
RESET ROLE;
RESET vitaluxe_security.actor;
