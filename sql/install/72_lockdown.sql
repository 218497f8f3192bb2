-- vitaluxe_security install script, part 72: emergency lockdown (SPEC section 4).
-- State lives in security.system_state (part 25), account_lockouts and login_state
-- (parts 10 and 25), active_sessions (part 40).

CREATE FUNCTION security.emergency_lockdown(reason text) RETURNS bigint
    AS 'MODULE_PATHNAME', 'vlx_emergency_lockdown'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.emergency_lockdown(text) IS
    'Emergency lockdown: sets the app-offline flag that security.check_login honours, locks every non-admin account (lockout_reason emergency_lockdown, until lifted), ends their sessions, opens a P0 incident (returned) and raises emergency_lockdown, notifying the executive and legal contacts too.';

CREATE FUNCTION security.lift_lockdown(notes text) RETURNS integer
    AS 'MODULE_PATHNAME', 'vlx_lift_lockdown'
    LANGUAGE C VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION security.lift_lockdown(text) IS
    'Ends an emergency lockdown: clears the app-offline flag, ends exactly the emergency_lockdown lockouts (notes required) and unlocks those accounts unless another lockout is still active; returns the number of accounts unlocked.';

-- ---------------------------------------------------------------------------------
-- Health rows of this part and part 70: the key cache of this backend, key age.
CREATE FUNCTION security.encryption_health(OUT check_name text, OUT status text, OUT detail text)
    RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT 'key_age'::text,
           CASE WHEN count(*) FILTER (WHERE k.status = 'active') = 0 THEN 'ok'
                WHEN bool_or(k.status = 'active' AND k.created_at < security.now() - max_age.v) THEN 'warn'
                WHEN bool_or(k.status = 'compromised' AND k.retired_at IS NULL) THEN 'warn'
                ELSE 'ok' END,
           CASE WHEN count(*) FILTER (WHERE k.status = 'active') = 0 THEN 'no active data key yet'
                ELSE format('oldest active data key is %s days old (key_max_age %s)',
                            extract(day FROM security.now() - min(k.created_at) FILTER (WHERE k.status = 'active'))::int,
                            max_age.v)
                     || CASE WHEN bool_or(k.status = 'compromised' AND k.retired_at IS NULL)
                             THEN '; a compromised key still holds values: CALL security.rotate_keys()' ELSE '' END
           END
      FROM (SELECT coalesce(nullif(current_setting('vitaluxe_security.key_max_age', true), ''), '90d')::interval AS v) AS max_age
      LEFT JOIN security.encryption_keys AS k ON true
     GROUP BY max_age.v
    UNION ALL
    SELECT 'key_cache', 'ok',
           format('this backend caches %s of at most %s unwrapped data keys (%s hits, %s misses, %s evictions)',
                  s.cached_keys, s.capacity, s.hits, s.misses, s.evictions)
      FROM security.key_cache_stats() AS s
    UNION ALL
    SELECT 'lockdown',
           CASE WHEN coalesce(st.app_offline, false) THEN 'warn' ELSE 'ok' END,
           CASE WHEN coalesce(st.app_offline, false)
                THEN format('emergency lockdown since %s (incident %s)', st.lockdown_started_at, st.lockdown_incident_id)
                ELSE 'no emergency lockdown' END
      FROM (SELECT) AS one LEFT JOIN security.system_state AS st ON true
$fn$;
COMMENT ON FUNCTION security.encryption_health() IS
    'Rows of security.system_health for keys and lockdown: key_age (warn when an active key is older than key_max_age), key_cache (this backend''s cache), lockdown.';

-- security.system_health grows these rows: the view as the parts before defined it,
-- followed by encryption_health() (composed, so other parts may extend it as well).
DO $health$
DECLARE
    def text := pg_catalog.pg_get_viewdef('security.system_health'::regclass);
    note text := pg_catalog.obj_description('security.system_health'::regclass, 'pg_class');
BEGIN
    EXECUTE format('CREATE OR REPLACE VIEW security.system_health WITH (security_invoker = true) AS '
                   'SELECT h.check_name, h.status, h.detail FROM (%s) AS h '
                   'UNION ALL SELECT e.check_name, e.status, e.detail FROM security.encryption_health() AS e',
                   rtrim(def, E'; \n'));
    EXECUTE format('COMMENT ON VIEW security.system_health IS %L',
                   note || ' Then key_age (warn when an active data key is older than key_max_age or a compromised key still holds values), key_cache (this backend''s data key cache) and lockdown (warn during an emergency lockdown).');
END
$health$;
