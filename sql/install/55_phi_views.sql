-- vitaluxe_security install script, part 55: security.phi_user_baseline over the
-- baseline rollup the native rule maintains (security.phi_daily), so the view and the
-- rule agree exactly: the same local days (the account's time zone, else
-- vitaluxe_security.timezone, else TimeZone), the same 30 days before today, the same
-- days with access, mean and population stddev, and the same "above" test.
CREATE VIEW security.phi_user_baseline WITH (security_invoker = true) AS
WITH params AS (
    SELECT security.now() AS t,
           coalesce(nullif(current_setting('vitaluxe_security.phi_baseline_sigma', true), ''),
                    '3')::numeric AS sigma,
           coalesce(nullif(current_setting('vitaluxe_security.phi_baseline_min_days', true), ''),
                    '7')::integer AS min_days
), zones AS MATERIALIZED (
    SELECT DISTINCT ON (lower(z.name)) lower(z.name) AS key, z.name
      FROM pg_catalog.pg_timezone_names AS z
     ORDER BY lower(z.name), z.name
), default_tz AS (
    SELECT coalesce((SELECT zones.name
                       FROM zones
                      WHERE zones.key = lower(nullif(current_setting('vitaluxe_security.timezone', true), ''))),
                    current_setting('TimeZone')) AS tz
), users AS (
    SELECT u.user_id,
           (params.t AT TIME ZONE coalesce(zones.name, default_tz.tz))::date AS today
      FROM (SELECT DISTINCT d.user_id FROM security.phi_daily_counts AS d) AS u
     CROSS JOIN params
     CROSS JOIN default_tz
      LEFT JOIN security.accounts AS a ON a.user_id = u.user_id
      LEFT JOIN zones ON zones.key = lower(a.timezone)
), history AS (
    SELECT u.user_id,
           count(*)                 AS days_of_history,
           avg(d.patients)          AS mean,
           stddev_pop(d.patients)   AS stddev
      FROM users AS u
      JOIN security.phi_daily_counts AS d
        ON d.user_id = u.user_id AND d.day >= u.today - 30 AND d.day < u.today
     GROUP BY u.user_id
), today AS (
    SELECT u.user_id, d.patients::bigint AS patients
      FROM users AS u
      JOIN security.phi_daily_counts AS d ON d.user_id = u.user_id AND d.day = u.today
)
SELECT coalesce(h.user_id, t.user_id)                       AS user_id,
       acc.email,
       coalesce(h.days_of_history, 0)                       AS days_of_history,
       round(h.mean, 2)                                     AS mean_daily_patients,
       round(h.stddev, 2)                                   AS stddev_daily_patients,
       round(h.mean + params.sigma * h.stddev, 2)           AS threshold,
       coalesce(t.patients, 0)                              AS today_patients,
       coalesce(h.days_of_history >= params.min_days
                AND coalesce(t.patients, 0) > h.mean + params.sigma * h.stddev,
                false)                                      AS above_baseline
  FROM history AS h
  FULL JOIN today AS t ON t.user_id = h.user_id
 CROSS JOIN params
  LEFT JOIN security.accounts AS acc ON acc.user_id = coalesce(h.user_id, t.user_id)
 ORDER BY above_baseline DESC, today_patients DESC, user_id;

COMMENT ON VIEW security.phi_user_baseline IS
    'Per user PHI baseline, read from the rollup the native rule maintains (security.phi_daily): over the 30 local days before today (security.now() in the account''s time zone, else vitaluxe_security.timezone, else TimeZone), the days with patient access, the mean and population standard deviation of distinct patients per such day, threshold = mean + vitaluxe_security.phi_baseline_sigma x stddev, today''s distinct patients, and above_baseline (today above the threshold with at least vitaluxe_security.phi_baseline_min_days, default 7, days of history) - the same test the trigger applies.';
