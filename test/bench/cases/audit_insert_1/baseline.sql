\set u random(1, 1000)
\set p random(1, 1000000)
INSERT INTO public.bench_audit_plain (user_id, action, entity_type, patient_id, practice_id)
VALUES (('b0000000-0000-0000-0000-' || lpad(:u::text, 12, '0'))::uuid, 'patient_viewed', 'patient',
        ('00000000-0000-0000-0000-' || lpad(:p::text, 12, '0'))::uuid, '00000000-0000-0000-0001-000000000001');
