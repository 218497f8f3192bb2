-- PHI access rules (SPEC section 3): rate, cross-practice, unusual hours, baseline, with
-- de-duplication, exempt roles, back-filled rows and bad input.  Every row here has a
-- fixed occurred_at in the past: the rules judge occurred_at, not the time of insert.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET vitaluxe_security.actor = 'regress_dba';

CREATE FUNCTION pg_temp.outcome(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- patient n, practice n
CREATE FUNCTION pg_temp.p(n int) RETURNS uuid LANGUAGE sql
    AS $$ SELECT ('00000000-0000-0000-0000-' || lpad(n::text, 12, '0'))::uuid $$;
CREATE FUNCTION pg_temp.pr(n int) RETURNS uuid LANGUAGE sql
    AS $$ SELECT ('00000000-0000-0000-0001-' || lpad(n::text, 12, '0'))::uuid $$;
-- the PHI events so far, with their running state; ids counted from the first PHI event,
-- so the output does not depend on the events earlier test files raised
CREATE VIEW pg_temp.ev AS
SELECT e.id - (SELECT min(x.id) FROM security.phi_events AS x) + 1 AS id, e.event_type, e.severity, e.priority, a.email, e.occurred_at, e.attempt_count,
       e.access_count, e.first_access, e.last_access
  FROM security.phi_events AS e
  JOIN security.accounts AS a USING (user_id)
 ORDER BY e.id;

INSERT INTO security.accounts (user_id, email, role, practice_id, timezone) VALUES
    ('a0000000-0000-0000-0000-000000000001', 'provider.ny@clinic.test', 'provider', pg_temp.pr(1), 'America/New_York'),
    ('a0000000-0000-0000-0000-000000000002', 'nurse.la@clinic.test',    'nurse',    pg_temp.pr(1), 'America/Los_Angeles'),
    ('a0000000-0000-0000-0000-000000000003', 'pharmacist@rx.test',      'pharmacy', pg_temp.pr(2), 'America/New_York'),
    ('a0000000-0000-0000-0000-000000000004', 'admin@clinic.test',       'admin',    NULL,          'America/New_York'),
    ('a0000000-0000-0000-0000-000000000005', 'nozone@clinic.test',      'provider', pg_temp.pr(1), NULL),
    ('a0000000-0000-0000-0000-000000000006', 'steady@clinic.test',      'provider', pg_temp.pr(1), 'UTC');

-- ---------------------------------------------------------------------------------
-- Rate: the provider reads 80 patients in 80 seconds in one multi-row INSERT (10:00 in
-- New York).  The 50th distinct patient raises one phi_access_rate event (high, P1);
-- the other 30 accesses extend it: a running count, not 31 more events.
INSERT INTO security.audit_logs (occurred_at, user_id, action, entity_type, patient_id, practice_id)
SELECT '2026-01-15 15:00:00+00'::timestamptz + g * interval '1 second',
       'a0000000-0000-0000-0000-000000000001', 'patient_viewed', 'patient', pg_temp.p(g), pg_temp.pr(1)
  FROM generate_series(1, 80) AS g;
SELECT * FROM pg_temp.ev;
-- Single-row inserts inside the window (re-reading patients already counted) extend it too.
SELECT count(security.log_phi_access('a0000000-0000-0000-0000-000000000001', pg_temp.p(g), 'patient_viewed',
                                     practice_id => pg_temp.pr(1),
                                     occurred_at => '2026-01-15 15:05:00+00'::timestamptz + g * interval '1 second'))
  FROM generate_series(1, 20) AS g;
SELECT event_type, attempt_count, access_count, first_access, last_access FROM pg_temp.ev;
-- An hour later the window has closed: 49 patients raise nothing, the 50th a new event.
INSERT INTO security.audit_logs (occurred_at, user_id, action, patient_id, practice_id)
SELECT '2026-01-15 16:30:00+00'::timestamptz + g * interval '1 second',
       'a0000000-0000-0000-0000-000000000001', 'patient_viewed', pg_temp.p(1000 + g), pg_temp.pr(1)
  FROM generate_series(1, 49) AS g;
SELECT count(*) AS rate_events FROM pg_temp.ev WHERE event_type = 'phi_access_rate';
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000001', pg_temp.p(1050), 'patient_viewed',
                               practice_id => pg_temp.pr(1),
                               occurred_at => '2026-01-15 16:31:00+00') > 0 AS logged;
SELECT id, event_type, attempt_count, access_count, first_access FROM pg_temp.ev WHERE event_type = 'phi_access_rate';
-- A resolved event is closed: the next burst in the same window opens a new one.
UPDATE security.security_events SET status = 'resolved', disposition = 'legitimate',
       notes = 'month-end review', resolved_at = '2026-01-15 17:00+00', resolved_by = 'regress_dba'
 WHERE event_type = 'phi_access_rate' AND occurred_at >= '2026-01-15 16:00+00';
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000001', pg_temp.p(1051), 'patient_viewed',
                               practice_id => pg_temp.pr(1),
                               occurred_at => '2026-01-15 16:32:00+00') > 0 AS logged;
SELECT ev.id, e.event_type, e.status, ev.access_count
  FROM security.security_events e
  JOIN pg_temp.ev ON e.id = ev.id + (SELECT min(x.id) FROM security.phi_events AS x) - 1
 WHERE e.event_type = 'phi_access_rate' ORDER BY ev.id;

-- ---------------------------------------------------------------------------------
-- Cross-practice: the nurse (practice 1) opens a prescription of practice 2: one high
-- event; three more within the window extend it.
SELECT count(security.log_phi_access('a0000000-0000-0000-0000-000000000002', pg_temp.p(2000 + g),
                                     'prescription_accessed', 'prescription', 'rx-' || g, pg_temp.pr(2),
                                     occurred_at => '2026-01-15 18:00:00+00'::timestamptz + g * interval '1 minute'))
  FROM generate_series(1, 4) AS g;
SELECT event_type, severity, priority, email, access_count, first_access, last_access
  FROM pg_temp.ev WHERE event_type = 'phi_cross_practice';
SELECT details - 'audit_log_id' AS details FROM security.security_events WHERE event_type = 'phi_cross_practice';
-- Own practice: nothing.  Exempt roles (phi_cross_practice_roles = admin,pharmacy): nothing.
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000002', pg_temp.p(3001), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-15 18:30+00') > 0 AS own_practice,
       security.log_phi_access('a0000000-0000-0000-0000-000000000003', pg_temp.p(3002), 'prescription_accessed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-15 18:31+00') > 0 AS pharmacy,
       security.log_phi_access('a0000000-0000-0000-0000-000000000004', pg_temp.p(3003), 'patient_viewed',
                               practice_id => pg_temp.pr(3), occurred_at => '2026-01-15 18:32+00') > 0 AS admin;
SELECT count(*) AS cross_practice_events FROM pg_temp.ev WHERE event_type = 'phi_cross_practice';
-- The exempt list is a setting: without pharmacy the pharmacist is flagged.
SET vitaluxe_security.phi_cross_practice_roles = 'admin';
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000003', pg_temp.p(3004), 'prescription_accessed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-15 18:33+00') > 0 AS logged;
RESET vitaluxe_security.phi_cross_practice_roles;
SELECT email, event_type FROM pg_temp.ev WHERE event_type = 'phi_cross_practice' ORDER BY id;

-- ---------------------------------------------------------------------------------
-- Unusual hours (03:00-05:00 local): 2026-01-16 08:30 UTC is 03:30 in New York and
-- 00:30 in Los Angeles.  The same instant flags the New York provider only.
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000001', pg_temp.p(4001), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-16 08:30+00') > 0 AS ny,
       security.log_phi_access('a0000000-0000-0000-0000-000000000002', pg_temp.p(4002), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-16 08:30+00') > 0 AS la;
SELECT email, event_type, severity, priority, occurred_at FROM pg_temp.ev WHERE event_type = 'phi_unusual_hours';
SELECT details ->> 'timezone' AS timezone FROM security.security_events WHERE event_type = 'phi_unusual_hours';
-- 03:30 in Los Angeles (11:30 UTC) flags the nurse; 04:50 the same night extends it.
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000002', pg_temp.p(4003), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-16 11:30+00') > 0 AS la_0330,
       security.log_phi_access('a0000000-0000-0000-0000-000000000002', pg_temp.p(4004), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-16 12:50+00') > 0 AS la_0450,
       security.log_phi_access('a0000000-0000-0000-0000-000000000002', pg_temp.p(4005), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-16 13:00+00') > 0 AS la_0500;
SELECT email, event_type, access_count, first_access, last_access FROM pg_temp.ev
 WHERE event_type = 'phi_unusual_hours' ORDER BY id;
-- An account without a time zone: vitaluxe_security.timezone, else TimeZone.
-- 02:30 UTC is 03:30 in Paris and 02:30 in UTC.
SET vitaluxe_security.timezone = 'Europe/Paris';
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000005', pg_temp.p(4010), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-17 02:30+00') > 0 AS logged;
RESET vitaluxe_security.timezone;
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000005', pg_temp.p(4011), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-18 02:30+00') > 0 AS logged;
SELECT e.email, e.event_type, e.occurred_at, e.details ->> 'timezone' AS timezone
  FROM security.security_events AS e
 WHERE e.email = 'nozone@clinic.test' ORDER BY e.id;

-- ---------------------------------------------------------------------------------
-- Baseline: a back-filled month (loaded in one statement, out of order) of 2 or 3
-- patients a day for 10 days gives mean 2.5, stddev 0.5, threshold 4.  On the 11th day
-- the 5th distinct patient is above it: one phi_baseline_deviation (medium).
INSERT INTO security.audit_logs (occurred_at, user_id, action, patient_id, practice_id)
SELECT '2026-02-01 14:00+00'::timestamptz + d * interval '1 day' + k * interval '1 minute',
       'a0000000-0000-0000-0000-000000000006', 'patient_viewed', pg_temp.p(5000 + k), pg_temp.pr(1)
  FROM generate_series(9, 0, -1) AS d, generate_series(1, 3) AS k
 WHERE k <= 2 + d % 2;
SELECT day, patients FROM security.phi_daily_counts
 WHERE user_id = 'a0000000-0000-0000-0000-000000000006' ORDER BY day;
SELECT count(security.log_phi_access('a0000000-0000-0000-0000-000000000006', pg_temp.p(5000 + k), 'patient_viewed',
                                     practice_id => pg_temp.pr(1),
                                     occurred_at => '2026-02-11 14:00+00'::timestamptz + k * interval '1 minute'))
  FROM generate_series(1, 4) AS k;
SELECT count(*) AS baseline_events FROM pg_temp.ev WHERE event_type = 'phi_baseline_deviation';
SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000006', pg_temp.p(5005), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-02-11 14:05+00') > 0 AS fifth,
       security.log_phi_access('a0000000-0000-0000-0000-000000000006', pg_temp.p(5006), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-02-11 14:06+00') > 0 AS sixth;
SELECT email, event_type, severity, priority, occurred_at, access_count FROM pg_temp.ev
 WHERE event_type = 'phi_baseline_deviation';
SELECT details - 'audit_log_id' AS details FROM security.security_events WHERE event_type = 'phi_baseline_deviation';
-- The view agrees with the rule (its "today" is security.now(), moved to 2026-02-11 here).
SET vitaluxe_security.clock_offset = '-296 days';
SELECT security.now()::date AS today;
SELECT email, days_of_history, mean_daily_patients, stddev_daily_patients, threshold, today_patients, above_baseline
  FROM security.phi_user_baseline WHERE email = 'steady@clinic.test';
RESET vitaluxe_security.clock_offset;
-- Fewer than phi_baseline_min_days days of history: not judged.
SET vitaluxe_security.phi_baseline_min_days = 15;
SELECT count(security.log_phi_access('a0000000-0000-0000-0000-000000000006', pg_temp.p(5100 + g), 'patient_viewed',
                                     practice_id => pg_temp.pr(1), occurred_at => '2026-02-12 14:00+00'))
  FROM generate_series(1, 8) AS g;
SELECT patients FROM security.phi_daily_counts
 WHERE user_id = 'a0000000-0000-0000-0000-000000000006' AND day = '2026-02-12';
RESET vitaluxe_security.phi_baseline_min_days;
SELECT count(*) AS baseline_events FROM pg_temp.ev WHERE event_type = 'phi_baseline_deviation';

-- ---------------------------------------------------------------------------------
-- Bad input.
-- NULL user: log_phi_access refuses it (22004).  A direct INSERT without a user is kept
-- (system access) and chained, but no per-user rule can judge it.
SELECT pg_temp.outcome($$SELECT security.log_phi_access(NULL, pg_temp.p(1), 'patient_viewed')$$);
INSERT INTO security.audit_logs (occurred_at, action, entity_type, entity_id)
VALUES ('2026-01-20 12:00+00', 'key_access', 'encryption_key', '1');
-- Unknown user: logged, its details flagged, and a phi_cross_practice event says so.
SELECT security.log_phi_access('b0000000-0000-0000-0000-00000000dead', pg_temp.p(6001), 'patient_viewed',
                               practice_id => pg_temp.pr(1), occurred_at => '2026-01-20 12:00+00') > 0 AS logged;
SELECT user_id, details FROM security.audit_logs WHERE user_id = 'b0000000-0000-0000-0000-00000000dead';
SELECT event_type, severity, details ->> 'unknown_user' AS unknown_user, details ->> 'reason' AS reason
  FROM security.security_events WHERE user_id = 'b0000000-0000-0000-0000-00000000dead';
-- NULL patient for a patient action: refused (22004), by the function and by the table.
SELECT pg_temp.outcome($$SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000002', NULL, 'patient_viewed')$$);
SELECT pg_temp.outcome($$INSERT INTO security.audit_logs (user_id, action, occurred_at)
                         VALUES ('a0000000-0000-0000-0000-000000000002', 'prescription_accessed', '2026-01-20 12:00+00')$$);
-- ... other actions need no patient.
SELECT pg_temp.outcome($$INSERT INTO security.audit_logs (user_id, action, occurred_at)
                         VALUES ('a0000000-0000-0000-0000-000000000002', 'report_exported', '2026-01-20 12:00+00')$$);
-- occurred_at in the future beyond vitaluxe_security.phi_future_skew (5 min): 22023;
-- within the skew: accepted. These rows are stamped near the real clock, so the
-- unusual-hours rule is switched off for them: the output must not depend on the hour
-- the suite runs at.
SET vitaluxe_security.unusual_hours = '';
SELECT pg_temp.outcome($$SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000004', pg_temp.p(7001),
                         'patient_viewed', occurred_at => security.now() + interval '1 hour')$$);
SELECT pg_temp.outcome($$SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000004', pg_temp.p(7002),
                         'patient_viewed', occurred_at => security.now() + interval '1 minute')$$);
RESET vitaluxe_security.unusual_hours;
-- Blank action: 22023; a malformed one is the table's check constraint (23514).
SELECT pg_temp.outcome($$SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000004', pg_temp.p(7003), ' ')$$);
SELECT pg_temp.outcome($$SELECT security.log_phi_access('a0000000-0000-0000-0000-000000000004', pg_temp.p(7003), 'Patient Viewed')$$);

-- ---------------------------------------------------------------------------------
-- Review accessed records: one row per patient the nurse touched.
SELECT patient_id, practice_id, accesses, first_access, last_access, actions
  FROM security.phi_accessed_patients('a0000000-0000-0000-0000-000000000002',
                                      '2026-01-15', '2026-01-17');
SELECT count(*) AS patients FROM security.phi_accessed_patients('a0000000-0000-0000-0000-000000000001', NULL, NULL);
SELECT pg_temp.outcome($$SELECT * FROM security.phi_accessed_patients(NULL, NULL, NULL)$$);
-- The PHI Access tab: one row per user per day.
SELECT day, email, role, records, distinct_patients, practices_touched, off_hours, open_anomalies
  FROM security.phi_access WHERE day BETWEEN '2026-01-15' AND '2026-01-16'
 ORDER BY day, email;

-- Every PHI event went out on the outbox like any other security event.
SELECT e.event_type, n.recipient_role, n.recipient
  FROM security.notifications n JOIN security.security_events e ON e.id = n.event_id
 WHERE e.event_type LIKE 'phi\_%' AND e.event_type = 'phi_baseline_deviation';
