-- Deterministic synthetic data for the demo: no randomness, every id derived from a
-- counter, so every run prints the same thing. Needs app_schema.sql and the extension
-- (the last part mirrors app.accounts into security.accounts).

-- Stable uuids: kind (1 practice, 2 account, 3 patient, 4 order, 5 line, 6 payment) + n.
CREATE FUNCTION pg_temp.demo_id(kind int, n int) RETURNS uuid
LANGUAGE sql IMMUTABLE AS
$$ SELECT format('%s0000000-0000-4000-8000-%s', kind, lpad(n::text, 12, '0'))::uuid $$;

-- 3 practices, each shipping to its own states.
INSERT INTO app.practices (id, name, states) VALUES
    (pg_temp.demo_id(1, 1), 'Sunrise Wellness (Miami)',     ARRAY['FL', 'GA']),
    (pg_temp.demo_id(1, 2), 'Lone Star Vitality (Austin)',  ARRAY['TX', 'OK', 'NM']),
    (pg_temp.demo_id(1, 3), 'Pacific Longevity (San Diego)', ARRAY['CA', 'NV', 'AZ']);

-- 12 accounts: 1 admin, 1 pharmacy, and per practice 2 providers, 1 nurse, 1 staff
-- (the third practice has no staff account).
INSERT INTO app.accounts (id, email, role, practice_id, timezone) VALUES
    (pg_temp.demo_id(2, 1),  'admin@vitaluxeservice.com',    'admin',    NULL,                   'America/New_York'),
    (pg_temp.demo_id(2, 2),  'fill@pharmacy.example',        'pharmacy', NULL,                   'America/Chicago'),
    (pg_temp.demo_id(2, 3),  'dr.alvarez@sunrise.example',   'provider', pg_temp.demo_id(1, 1), 'America/New_York'),
    (pg_temp.demo_id(2, 4),  'dr.baker@sunrise.example',     'provider', pg_temp.demo_id(1, 1), 'America/New_York'),
    (pg_temp.demo_id(2, 5),  'nurse.cruz@sunrise.example',   'nurse',    pg_temp.demo_id(1, 1), 'America/New_York'),
    (pg_temp.demo_id(2, 6),  'desk@sunrise.example',         'staff',    pg_temp.demo_id(1, 1), 'America/New_York'),
    (pg_temp.demo_id(2, 7),  'dr.dawson@lonestar.example',   'provider', pg_temp.demo_id(1, 2), 'America/Chicago'),
    (pg_temp.demo_id(2, 8),  'dr.evans@lonestar.example',    'provider', pg_temp.demo_id(1, 2), 'America/Chicago'),
    (pg_temp.demo_id(2, 9),  'nurse.flores@lonestar.example', 'nurse',   pg_temp.demo_id(1, 2), 'America/Chicago'),
    (pg_temp.demo_id(2, 10), 'desk@lonestar.example',        'staff',    pg_temp.demo_id(1, 2), 'America/Chicago'),
    (pg_temp.demo_id(2, 11), 'dr.garcia@pacific.example',    'provider', pg_temp.demo_id(1, 3), 'America/Los_Angeles'),
    (pg_temp.demo_id(2, 12), 'nurse.huang@pacific.example',  'nurse',    pg_temp.demo_id(1, 3), 'America/Los_Angeles');

-- Products: some controlled (DEA schedule II..V), most not.
INSERT INTO app.products (id, name, dea_schedule, unit) VALUES
    (1, 'Semaglutide 2.5 mg/mL',       NULL, 'vial'),
    (2, 'Tirzepatide 10 mg/mL',        NULL, 'vial'),
    (3, 'NAD+ 200 mg/mL',              NULL, 'vial'),
    (4, 'Testosterone cypionate 200',  3,    'mL'),
    (5, 'Phentermine 37.5 mg',         4,    'tablet'),
    (6, 'Modafinil 200 mg',            4,    'tablet'),
    (7, 'Ketamine 100 mg/mL',          3,    'mL'),
    (8, 'B12 methylcobalamin',         NULL, 'vial');

-- 60 patients, 20 per practice.
INSERT INTO app.patients (id, practice_id, first_name, last_name, dob, allergies, notes)
SELECT pg_temp.demo_id(3, n),
       pg_temp.demo_id(1, 1 + (n - 1) % 3),
       (ARRAY['Ava','Ben','Cleo','Dan','Eve','Finn','Gia','Hal','Ivy','Jon'])[1 + (n - 1) % 10],
       (ARRAY['Stone','Rivers','Lake','Hill','Field','Wood'])[1 + (n - 1) % 6] || '-' || n,
       date '1950-01-01' + (n * 397) % 18000,
       CASE WHEN n % 4 = 0 THEN 'penicillin' WHEN n % 7 = 0 THEN 'sulfa' END,
       'synthetic patient #' || n
FROM generate_series(1, 60) AS n;

-- 200 orders over 20 days from a fixed date (2025-01-01); patient and practice agree; a few
-- ship outside the practice's states.
INSERT INTO app.orders (id, practice_id, patient_id, ship_state, status, created_at)
SELECT pg_temp.demo_id(4, n),
       pg_temp.demo_id(1, 1 + (p - 1) % 3),
       pg_temp.demo_id(3, p),
       CASE WHEN n % 50 = 0 THEN 'NY'
            ELSE (ARRAY['FL','TX','CA'])[1 + (p - 1) % 3] END,
       CASE WHEN n <= 150 THEN 'shipped' ELSE 'pending' END,
       timestamptz '2025-01-01 00:00:00+00' + n * interval '2 hours 23 minutes'
FROM generate_series(1, 200) AS n,
     LATERAL (SELECT 1 + (n * 7) % 60 AS p) AS pick;

-- One or two lines per order.
INSERT INTO app.order_lines (id, order_id, product_id, quantity, prescription, custom_dosage, custom_sig)
SELECT pg_temp.demo_id(5, n * 2 + k),
       pg_temp.demo_id(4, n),
       1 + (n + k * 3) % 8,
       CASE WHEN n % 67 = 0 AND k = 0 THEN 120 ELSE 1 + (n + k) % 30 END,
       'Rx ' || n || '-' || k,
       CASE WHEN n % 3 = 0 THEN 'titrate weekly' END,
       'use as directed'
FROM generate_series(1, 200) AS n, generate_series(0, 1) AS k
WHERE k = 0 OR n % 2 = 0;

INSERT INTO app.practice_payment_methods (id, practice_id, plaid_token)
SELECT pg_temp.demo_id(6, n), pg_temp.demo_id(1, n), 'access-sandbox-demo-' || n
FROM generate_series(1, 3) AS n;

-- The app keeps the extension's directory in sync with its own accounts.
INSERT INTO security.accounts (user_id, email, role, practice_id, is_admin, timezone)
SELECT id, email, role, practice_id, role = 'admin', timezone
FROM app.accounts
ORDER BY id;
