-- Step 40: PHI access auditing (SPEC section 3). Three anomalies, then the evidence.
--   * dr.alvarez (Sunrise, New York) reads 80 records of 60 patients in one minute:
--     one phi_access_rate event with a running count (and, for the patients of the two
--     other practices, one phi_cross_practice event);
--   * nurse.cruz (Sunrise) opens a prescription of a Lone Star patient: phi_cross_practice;
--   * nurse.huang (Pacific, Los Angeles) opens a chart at 03:30 local time (11:30 UTC):
--     phi_unusual_hours;
-- then the PHI Access tab, the records dr.alvarez touched, the chain verification and the
-- evidence export with its chain hashes.
\echo
\echo '======== 40: PHI access: a burst, a cross-practice prescription, a 3:30 AM chart'
INSERT INTO security.audit_logs (occurred_at, user_id, user_email, action, entity_type, entity_id,
                                 patient_id, practice_id, ip_address)
SELECT timestamptz '2025-01-21 15:00:00+00' + k * interval '750 milliseconds',
       a.id, a.email, 'patient_viewed', 'patient', p.id::text, p.id, p.practice_id, inet '203.0.113.10'
  FROM app.accounts AS a
 CROSS JOIN generate_series(0, 79) AS k
  JOIN app.patients AS p
    ON p.id = format('30000000-0000-4000-8000-%s', lpad((1 + k % 60)::text, 12, '0'))::uuid
 WHERE a.email = 'dr.alvarez@sunrise.example';

SELECT security.log_phi_access(a.id, p.id, 'prescription_accessed', 'prescription', 'rx-1002',
                               p.practice_id, ip => inet '198.51.100.7',
                               occurred_at => timestamptz '2025-01-21 16:10:00+00') AS audit_log_id
  FROM app.accounts AS a, app.patients AS p
 WHERE a.email = 'nurse.cruz@sunrise.example'
   AND p.id = '30000000-0000-4000-8000-000000000002';

SELECT security.log_phi_access(a.id, p.id, 'patient_viewed', 'patient', p.id::text, p.practice_id,
                               occurred_at => timestamptz '2025-01-22 11:30:00+00') AS audit_log_id
  FROM app.accounts AS a, app.patients AS p
 WHERE a.email = 'nurse.huang@pacific.example'
   AND p.id = '30000000-0000-4000-8000-000000000003';

\echo '---- the PHI events, each with its running count (security.phi_events)'
SELECT id, event_type, severity, priority, email, occurred_at, access_count, first_access, last_access
  FROM security.phi_events ORDER BY id;
\echo '---- Security > PHI Access'
SELECT * FROM security.phi_access WHERE day >= '2025-01-21';
\echo '---- review accessed records: the patients dr.alvarez touched (first 5 of them)'
SELECT p.* FROM app.accounts AS a
 CROSS JOIN LATERAL security.phi_accessed_patients(a.id, '2025-01-21', '2025-01-22') AS p
 WHERE a.email = 'dr.alvarez@sunrise.example'
 LIMIT 5;
\echo '---- the chain verification (seals first), then the evidence export of nurse.cruz: one document'
\echo '     per audit row with its chain hashes (recorded_at / sealed_at left out: they are the time of the run)'
SELECT * FROM security.verify_audit_chain();
SELECT jsonb_pretty(d - 'recorded_at' - 'sealed_at') FROM app.accounts AS a
 CROSS JOIN LATERAL security.export_user_audit(a.id, '2025-01-21', '2025-01-22') AS d
 WHERE a.email = 'nurse.cruz@sunrise.example';
