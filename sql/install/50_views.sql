-- vitaluxe_security install script, part 50: the Security tab views.
--
-- All views are security_invoker: they read the tables with the privileges (and row
-- level security policies) of whoever queries them, so a view never shows more than
-- its tables would.  Times are judged with security.now(), the extension's clock.
-- Settings are read with current_setting(name, true): the GUCs exist only once the
-- library is loaded, so every read falls back to the documented default.

-- ---------------------------------------------------------------------------------
CREATE VIEW security.account_security WITH (security_invoker = true) AS
SELECT l.id,
       l.email,
       l.user_id,
       CASE
           WHEN l.unlocked_at IS NOT NULL THEN 'unlocked'
           WHEN l.locked_until IS NULL OR l.locked_until > clock.t THEN 'active'
           ELSE 'expired'
       END                                                  AS status,
       l.lockout_reason,
       l.locked_at,
       l.locked_until,
       l.ip_address,
       l.attempt_count,
       l.locked_by,
       l.notes,
       CASE
           WHEN l.unlocked_at IS NULL AND l.locked_until > clock.t
           THEN l.locked_until - clock.t
       END                                                  AS remaining,
       l.unlocked_at,
       l.unlocked_by
  FROM security.account_lockouts AS l
 CROSS JOIN (SELECT security.now() AS t) AS clock
 ORDER BY l.locked_at DESC, l.id DESC;

COMMENT ON VIEW security.account_security IS
    'Security -> Account Security: one row per lockout, newest first. status is active (locked_until in the future, or NULL = until an admin unlocks), expired (locked_until passed) or unlocked (an admin unlocked it); remaining is the time left of an active lockout with an end (NULL otherwise).';

-- ---------------------------------------------------------------------------------
CREATE VIEW security.security_events_tab WITH (security_invoker = true) AS
SELECT e.id,
       e.event_type,
       e.severity,
       e.priority,
       e.ip_address,
       e.email,
       e.attempt_count,
       e.occurred_at AS "timestamp",
       e.status,
       e.disposition,
       e.details,
       e.user_id,
       e.notes,
       e.incident_id
  FROM security.security_events AS e
 ORDER BY e.occurred_at DESC, e.id DESC;

COMMENT ON VIEW security.security_events_tab IS
    'Security -> Security Events: every security event, newest first, with its severity, priority, triage status and disposition.';

-- ---------------------------------------------------------------------------------
CREATE VIEW security.brute_force_attacks WITH (security_invoker = true) AS
WITH params AS (
    SELECT security.now() AS t,
           coalesce(nullif(current_setting('vitaluxe_security.lockout_window', true), ''),
                    '15min')::interval AS lockout_window,
           coalesce(nullif(current_setting('vitaluxe_security.ip_account_threshold', true), ''),
                    '3')::integer AS ip_account_threshold
), per_ip AS (
    SELECT f.ip_address,
           count(DISTINCT f.email)  AS accounts_targeted,
           count(*)                 AS attempts,
           min(f.attempted_at)      AS first_attempt,
           max(f.attempted_at)      AS last_attempt
      FROM security.failed_login_attempts AS f
     CROSS JOIN params
     WHERE f.ip_address IS NOT NULL
       AND f.attempted_at > params.t - interval '24 hours'
     GROUP BY f.ip_address
)
SELECT a.ip_address,
       a.accounts_targeted,
       a.attempts,
       a.first_attempt,
       a.last_attempt,
       a.last_attempt - a.first_attempt                     AS duration,
       a.last_attempt > params.t - params.lockout_window    AS ongoing,
       b.blocked,
       CASE
           WHEN b.blocked THEN 'none'
           WHEN a.accounts_targeted >= params.ip_account_threshold THEN 'block_ip'
           ELSE 'monitor'
       END                                                  AS recommended_action
  FROM per_ip AS a
 CROSS JOIN params
 CROSS JOIN LATERAL (
        SELECT EXISTS (
                 SELECT 1
                   FROM security.blocked_ips AS bi
                  WHERE bi.network >>= a.ip_address
                    AND bi.unblocked_at IS NULL
                    AND (bi.blocked_until IS NULL OR bi.blocked_until > params.t)
               ) AS blocked
       ) AS b
 ORDER BY a.accounts_targeted DESC, a.attempts DESC, a.last_attempt DESC, a.ip_address;

COMMENT ON VIEW security.brute_force_attacks IS
    'Security -> Security Events, brute force: one row per source IP address that failed logins in the last 24 hours: accounts targeted, attempts, first and last attempt, ongoing (last attempt within lockout_window), blocked (an active security.blocked_ips row contains it) and the recommended action (block_ip from ip_account_threshold accounts, monitor below, none when already blocked).';

-- ---------------------------------------------------------------------------------
CREATE VIEW security.failed_login_trends WITH (security_invoker = true) AS
SELECT f.attempted_at::date         AS day,
       f.ip_address,
       count(*)                     AS attempts,
       count(DISTINCT f.email)      AS distinct_accounts,
       min(f.attempted_at)          AS first_attempt,
       max(f.attempted_at)          AS last_attempt
  FROM security.failed_login_attempts AS f
 GROUP BY f.attempted_at::date, f.ip_address
 ORDER BY day DESC, attempts DESC, f.ip_address NULLS LAST;

COMMENT ON VIEW security.failed_login_trends IS
    'Failed logins per source IP address per day (in the session''s TimeZone): attempts and distinct accounts. ip_address NULL groups logins without a client address (e.g. database logins over a Unix socket).';

-- ---------------------------------------------------------------------------------
CREATE VIEW security.phi_access WITH (security_invoker = true) AS
WITH hours AS (
    -- vitaluxe_security.unusual_hours: 'HH:MM-HH:MM' (may wrap midnight), empty = off,
    -- undefined (library not loaded yet) = the default 03:00-05:00
    SELECT btrim(split_part(h.spec, '-', 1))::time AS from_t,
           btrim(split_part(h.spec, '-', 2))::time AS to_t
      FROM (SELECT btrim(coalesce(current_setting('vitaluxe_security.unusual_hours', true),
                                  '03:00-05:00')) AS spec) AS h
     WHERE h.spec <> ''
), zones AS MATERIALIZED (
    -- read the time zone database once per query
    SELECT DISTINCT ON (lower(z.name)) lower(z.name) AS key, z.name
      FROM pg_catalog.pg_timezone_names AS z
     ORDER BY lower(z.name), z.name
), default_tz AS (
    -- vitaluxe_security.timezone when it names a known zone, else the session's TimeZone
    SELECT coalesce((SELECT zones.name
                       FROM zones
                      WHERE zones.key = lower(nullif(current_setting('vitaluxe_security.timezone', true), ''))),
                    current_setting('TimeZone')) AS tz
), acct AS (
    -- the account's time zone when it names a known zone, else the default
    SELECT a.user_id, a.email, a.role,
           coalesce(zones.name, default_tz.tz) AS tz
      FROM security.accounts AS a
     CROSS JOIN default_tz
      LEFT JOIN zones ON zones.key = lower(a.timezone)
), logs AS (
    SELECT l.user_id,
           l.occurred_at::date AS day,
           l.user_email,
           l.patient_id,
           l.practice_id,
           (l.occurred_at AT TIME ZONE coalesce(acct.tz, default_tz.tz))::time AS local_time,
           acct.email,
           acct.role
      FROM security.audit_logs AS l
     CROSS JOIN default_tz
      LEFT JOIN acct ON acct.user_id = l.user_id
     WHERE l.user_id IS NOT NULL
)
SELECT g.day,
       g.user_id,
       coalesce(max(g.email), max(g.user_email))            AS email,
       max(g.role)                                          AS role,
       count(*)                                             AS records,
       count(DISTINCT g.patient_id)                         AS distinct_patients,
       count(DISTINCT g.practice_id)                        AS practices_touched,
       count(*) FILTER (WHERE CASE WHEN hours.from_t <= hours.to_t
                                   THEN g.local_time >= hours.from_t AND g.local_time < hours.to_t
                                   ELSE g.local_time >= hours.from_t OR g.local_time < hours.to_t
                              END)                          AS off_hours,
       (SELECT count(*)
          FROM security.security_events AS e
         WHERE e.user_id = g.user_id
           AND e.event_type LIKE 'phi\_%'
           AND e.status = 'open'
           AND e.occurred_at >= g.day::timestamptz
           AND e.occurred_at < (g.day + 1)::timestamptz)   AS open_anomalies
  FROM logs AS g
 LEFT JOIN hours ON true
 GROUP BY g.day, g.user_id
 ORDER BY g.day DESC, records DESC, g.user_id;

COMMENT ON VIEW security.phi_access IS
    'Security -> PHI Access: one row per user per day (session TimeZone) of security.audit_logs: records, distinct patients, practices touched, off-hours records (local time in the account''s time zone, else vitaluxe_security.timezone, else the session''s TimeZone, within vitaluxe_security.unusual_hours; 0 when that setting is empty) and open phi_* anomaly events of that user that day.';

-- security.phi_user_baseline is defined in part 55, over the rollup the native rule keeps.

-- ---------------------------------------------------------------------------------
CREATE VIEW security.active_sessions_tab WITH (security_invoker = true) AS
WITH params AS (
    SELECT security.now() AS t,
           coalesce(nullif(current_setting('vitaluxe_security.session_idle_timeout', true), ''),
                    '30min')::interval AS idle_timeout
), live AS (
    SELECT s.user_id, s.email, s.ip_address, s.started_at, s.last_activity, geo.country
      FROM security.active_sessions AS s
     CROSS JOIN params
      LEFT JOIN LATERAL (
            SELECT g.country
              FROM security.ip_geo AS g
             WHERE g.network >>= s.ip_address
             ORDER BY masklen(g.network) DESC
             LIMIT 1
           ) AS geo ON true
     WHERE s.ended_at IS NULL
       AND s.last_activity > params.t - params.idle_timeout
), per_user AS (
    SELECT l.user_id,
           max(l.email)                                     AS email,
           count(*)                                         AS live_sessions,
           coalesce(array_agg(DISTINCT l.ip_address ORDER BY l.ip_address)
                        FILTER (WHERE l.ip_address IS NOT NULL), '{}') AS ips,
           coalesce(array_agg(DISTINCT l.country::text ORDER BY l.country::text)
                        FILTER (WHERE l.country IS NOT NULL), '{}')    AS countries,
           min(l.started_at)                                AS first_started,
           max(l.last_activity)                             AS last_activity,
           count(DISTINCT l.ip_address)                     AS distinct_ips,
           count(DISTINCT l.country)                        AS distinct_countries
      FROM live AS l
     GROUP BY l.user_id, CASE WHEN l.user_id IS NULL THEN l.email END
)
SELECT u.user_id,
       u.email,
       u.live_sessions,
       u.ips,
       u.countries,
       u.first_started,
       u.last_activity,
       u.distinct_ips > 1                                   AS concurrent,
       CASE
           WHEN u.distinct_countries > 1 THEN 'high'
           WHEN u.distinct_ips > 1 THEN 'medium'
           ELSE 'low'
       END                                                  AS risk
  FROM per_user AS u
 ORDER BY u.distinct_countries > 1 DESC, u.distinct_ips > 1 DESC,
          u.last_activity DESC, u.email;

COMMENT ON VIEW security.active_sessions_tab IS
    'Security -> Active Sessions: one row per user with live sessions (not ended, activity within vitaluxe_security.session_idle_timeout): their IP addresses and countries (security.ip_geo), last activity, concurrent (live sessions from more than one IP) and risk: high when the IPs are in different countries, medium when concurrent, low otherwise.';

-- ---------------------------------------------------------------------------------
CREATE VIEW security.impersonation_tab WITH (security_invoker = true) AS
SELECT i.id,
       i.admin_user_id,
       i.admin_email,
       i.target_user_id,
       i.target_email,
       i.reason,
       i.allowed,
       i.started_at,
       i.ended_at,
       i.ip_address,
       CASE WHEN i.allowed THEN coalesce(i.ended_at, clock.t) - i.started_at END AS duration,
       i.allowed AND i.ended_at IS NULL                     AS active
  FROM security.impersonation_logs AS i
 CROSS JOIN (SELECT security.now() AS t) AS clock
 ORDER BY i.started_at DESC, i.id DESC;

COMMENT ON VIEW security.impersonation_tab IS
    'Impersonation log, newest first: who impersonated whom and why, whether it was allowed, its duration (so far, while active) and whether it is still active. Refused requests have no duration.';

-- ---------------------------------------------------------------------------------
CREATE VIEW security.suspicious_orders WITH (security_invoker = true) AS
SELECT f.id,
       f.order_id,
       f.patient_id,
       f.practice_id,
       f.rule,
       f.details,
       f.flagged_at,
       f.status,
       f.event_id,
       e.severity,
       e.priority,
       e.status         AS event_status,
       e.disposition    AS event_disposition,
       EXISTS (SELECT 1
                 FROM security.flagged_practices AS fp
                WHERE fp.practice_id = f.practice_id
                  AND fp.cleared_at IS NULL) AS practice_flagged
  FROM security.flagged_orders AS f
  LEFT JOIN security.security_events AS e ON e.id = f.event_id
 ORDER BY f.flagged_at DESC, f.id DESC;

COMMENT ON VIEW security.suspicious_orders IS
    'Orders page: orders flagged by the suspicious-order rules, newest first, with the state of their security event and whether the practice is flagged.';

-- ---------------------------------------------------------------------------------
CREATE VIEW security.overdue_incidents WITH (security_invoker = true) AS
SELECT i.id,
       i.incident_type,
       i.title,
       i.severity,
       i.priority,
       i.status,
       i.detected_at,
       i.respond_by,
       clock.t - i.respond_by   AS overdue_by,
       i.opened_by
  FROM security.incidents AS i
 CROSS JOIN (SELECT security.now() AS t) AS clock
 WHERE i.status IN ('open', 'investigating', 'contained')
   AND i.respond_by < clock.t
 ORDER BY i.respond_by, i.id;

COMMENT ON VIEW security.overdue_incidents IS
    'Incidents still open, investigating or contained past their respond_by deadline (from security.severity_levels), most overdue first.';

-- ---------------------------------------------------------------------------------
CREATE VIEW security.system_health WITH (security_invoker = true) AS
WITH ns AS (
    SELECT n.oid, n.nspname, n.nspacl
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname = 'security'
), rls_off AS (
    SELECT c.relname
      FROM pg_catalog.pg_class AS c
      JOIN ns ON ns.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND NOT c.relrowsecurity
), public_grants AS (
    -- grantee 0 in an ACL is PUBLIC.  A NULL relacl/nspacl means the owner-only
    -- default; a NULL proacl means the default EXECUTE to PUBLIC.
    SELECT 'schema ' || quote_ident(ns.nspname) AS object
      FROM ns
     WHERE EXISTS (SELECT 1 FROM pg_catalog.aclexplode(ns.nspacl) AS x WHERE x.grantee = 0)
    UNION ALL
    SELECT CASE c.relkind
               WHEN 'S' THEN 'sequence '
               WHEN 'v' THEN 'view '
               WHEN 'm' THEN 'materialized view '
               WHEN 'f' THEN 'foreign table '
               ELSE 'table '
           END || format('%I.%I', ns.nspname, c.relname)
      FROM pg_catalog.pg_class AS c
      JOIN ns ON ns.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(c.relacl) AS x WHERE x.grantee = 0)
    UNION ALL
    SELECT 'column ' || format('%I.%I.%I', ns.nspname, c.relname, a.attname)
      FROM pg_catalog.pg_attribute AS a
      JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
      JOIN ns ON ns.oid = c.relnamespace
     WHERE a.attacl IS NOT NULL
       AND NOT a.attisdropped
       AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(a.attacl) AS x WHERE x.grantee = 0)
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END
           || format('%I.%I(%s)', ns.nspname, p.proname,
                     pg_catalog.pg_get_function_identity_arguments(p.oid))
      FROM pg_catalog.pg_proc AS p
      JOIN ns ON ns.oid = p.pronamespace
     WHERE p.proacl IS NULL
        OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(p.proacl) AS x WHERE x.grantee = 0)
), outbox AS (
    SELECT count(*) AS unsent,
           count(*) FILTER (WHERE n.created_at < security.now() - interval '15 minutes') AS stale,
           min(n.created_at) AS oldest
      FROM security.notifications AS n
     WHERE n.sent_at IS NULL
), checks AS (
    SELECT 1 AS ord,
           'preload'::text AS check_name,
           CASE WHEN security.preload_active() THEN 'ok' ELSE 'off' END AS status,
           -- Says only what is true of this version: the preload-only features of SPEC §9
           -- (database login protection, key access guard, background event writer) are
           -- not built yet; this row grows with them.
           CASE WHEN NOT security.preload_active()
                THEN 'not in shared_preload_libraries: features that need preload are unavailable'
                ELSE 'loaded through shared_preload_libraries; the preload-only features (SPEC section 9) are not implemented in this version'
           END AS detail
    UNION ALL
    SELECT 2, 'row_level_security',
           CASE WHEN count(*) = 0 THEN 'ok' ELSE 'fail' END,
           CASE WHEN count(*) = 0
                THEN 'row level security is enabled on every table'
                ELSE 'row level security is off on: ' || string_agg(quote_ident(relname), ', ' ORDER BY relname)
           END
      FROM rls_off
    UNION ALL
    SELECT 3, 'public_grants',
           CASE WHEN count(*) = 0 THEN 'ok' ELSE 'fail' END,
           CASE WHEN count(*) = 0
                THEN 'nothing in schema security is granted to PUBLIC'
                ELSE 'granted to PUBLIC: ' || string_agg(object, ', ' ORDER BY object)
           END
      FROM public_grants
    UNION ALL
    SELECT 4, 'pending_notifications',
           CASE WHEN stale > 0 THEN 'warn' ELSE 'ok' END,
           format('%s unsent', unsent)
           || CASE WHEN stale > 0
                   THEN format(', %s queued more than 15 minutes ago (oldest %s): is the mailer draining security.claim_notifications?',
                               stale, oldest)
                   ELSE ''
              END
      FROM outbox
)
SELECT check_name, status, detail
  FROM checks
 ORDER BY ord;

COMMENT ON VIEW security.system_health IS
    'Health of the extension, one row per check: preload (ok, or off when the library is not in shared_preload_libraries), row_level_security (fail lists tables without it), public_grants (fail lists objects granted to PUBLIC, including functions still on the default EXECUTE grant), pending_notifications (warn when unsent notifications wait more than 15 minutes). status is ok, warn, fail or off.';
