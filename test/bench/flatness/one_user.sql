-- one user, a new random patient each time (the rate bucket stays full at 50 patients
-- and the open phi_access_rate event is extended on every insert)
\set p random(1, 100000000)
INSERT INTO security.audit_logs (user_id, action, entity_type, patient_id, practice_id)
VALUES ('b0000000-0000-0000-0000-000000000001', 'patient_viewed', 'patient',
        ('00000000-0000-0000-0000-' || lpad(:p::text, 12, '0'))::uuid, '00000000-0000-0000-0001-000000000001');
