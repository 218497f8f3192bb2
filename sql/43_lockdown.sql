-- Emergency lockdown (SPEC section 4): every non-admin account locked and its sessions
-- ended, the app-offline flag check_login honours, a P0 incident, executive and legal
-- notified; lift_lockdown undoes exactly that.
SET client_min_messages = notice;
SET vitaluxe_security.actor = 'regress_dba';

-- A world of its own: the earlier tests left accounts, lockouts and sessions behind; this
-- test clears them inside one transaction that is rolled back at the end (each failing
-- statement rolls back alone: ON_ERROR_ROLLBACK).
\set ON_ERROR_ROLLBACK on
BEGIN;
DELETE FROM security.login_state;
DELETE FROM security.account_lockouts;
DELETE FROM security.active_sessions;
DELETE FROM security.accounts;
DELETE FROM security.system_state;

INSERT INTO security.accounts (user_id, email, role, is_admin) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'Admin@VitaLuxe.example', 'admin', true),
    ('00000000-0000-0000-0000-0000000000b1', 'Doctor@Clinic.example', 'prescriber', false),
    ('00000000-0000-0000-0000-0000000000b2', 'nurse@clinic.example', 'staff', false),
    ('00000000-0000-0000-0000-0000000000b3', 'pharma@rx.example', 'pharmacy', false);
INSERT INTO security.active_sessions (user_id, email, ip_address) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'admin@vitaluxe.example', '10.0.0.1'),
    ('00000000-0000-0000-0000-0000000000b1', 'doctor@clinic.example', '10.0.0.2'),
    ('00000000-0000-0000-0000-0000000000b2', 'nurse@clinic.example', '10.0.0.3');
-- The nurse already has a manual lockout of her own, which the lockdown must not undo.
INSERT INTO security.account_lockouts (email, user_id, lockout_reason, notes)
VALUES ('nurse@clinic.example', '00000000-0000-0000-0000-0000000000b2', 'manual', 'under review');
INSERT INTO security.login_state (email, locked, lockout_id)
SELECT 'nurse@clinic.example', true, id FROM security.account_lockouts WHERE lockout_reason = 'manual';
INSERT INTO security.contacts (role, email) VALUES ('legal', 'counsel@vitaluxe.example');

SELECT security.emergency_lockdown(NULL);
SELECT security.emergency_lockdown('');
SELECT security.lift_lockdown('nothing to lift');

SELECT security.emergency_lockdown('ransomware detected on the app servers') AS incident \gset

SELECT app_offline, lockdown_reason, lockdown_started_by, lockdown_incident_id = :incident AS linked
  FROM security.system_state;
SELECT email, lockout_reason, locked_until, locked_by, unlocked_at FROM security.account_lockouts
 ORDER BY email, id;
SELECT email, locked, locked_until, lockout_id IS NOT NULL AS has_lockout FROM security.login_state ORDER BY email;
SELECT email, ended_at IS NOT NULL AS ended, end_reason FROM security.active_sessions ORDER BY email;
SELECT incident_type, severity, priority, respond_by - detected_at AS respond_within, summary,
       details->>'accounts_locked' AS accounts_locked, details->>'sessions_ended' AS sessions_ended
  FROM security.incidents WHERE id = :incident;
SELECT event_type, severity, incident_id = :incident AS linked FROM security.security_events
 WHERE event_type = 'emergency_lockdown';
SELECT n.recipient_role, n.recipient FROM security.notifications n
  JOIN security.security_events e ON e.id = n.event_id
 WHERE e.event_type = 'emergency_lockdown' ORDER BY n.recipient_role;
SELECT check_name, status FROM security.system_health WHERE check_name = 'lockdown';
-- the login path honours it: non-admins are refused, admins are not
SELECT email, (security.check_login(email, '10.1.1.1')).allowed, (security.check_login(email, '10.1.1.1')).reason
  FROM (VALUES ('admin@vitaluxe.example'), ('doctor@clinic.example'), ('stranger@else.example')) AS e(email);
-- a second call while locked down locks only what is new, under the same incident
INSERT INTO security.accounts (user_id, email, role) VALUES
    ('00000000-0000-0000-0000-0000000000b4', 'late@clinic.example', 'staff');
SELECT security.emergency_lockdown('still under attack') = :incident AS same_incident;
SELECT count(*) AS emergency_lockouts FROM security.account_lockouts WHERE lockout_reason = 'emergency_lockdown';
SELECT count(*) AS lockdown_incidents FROM security.incidents WHERE incident_type = 'emergency_lockdown';

-- ---- lifting ------------------------------------------------------------------------------
SELECT security.lift_lockdown(NULL);
SELECT security.lift_lockdown('   ');
SELECT security.lift_lockdown('servers rebuilt, credentials rotated') AS accounts_unlocked;
SELECT app_offline FROM security.system_state;
SELECT email, lockout_reason, unlocked_at IS NOT NULL AS unlocked, unlocked_by, notes
  FROM security.account_lockouts ORDER BY email, id;
-- the nurse stays locked by her manual lockout; the others are free again
SELECT email, locked, locked_until, lockout_id = (SELECT id FROM security.account_lockouts WHERE lockout_reason = 'manual') AS manual_lockout
  FROM security.login_state ORDER BY email;
SELECT jsonb_array_length(response_actions) AS actions FROM security.incidents WHERE id = :incident;
SELECT check_name, status FROM security.system_health WHERE check_name = 'lockdown';
SELECT email, (security.check_login(email, '10.1.1.1')).allowed, (security.check_login(email, '10.1.1.1')).reason
  FROM (VALUES ('doctor@clinic.example'), ('nurse@clinic.example')) AS e(email);
SELECT security.lift_lockdown('again');

-- Only security_admin may do any of this.
SET ROLE regress_vlx_app;
SELECT security.emergency_lockdown('app tries');
SELECT security.lift_lockdown('app tries');
SELECT security.mark_key_compromised(1, 'app tries');
CALL security.rotate_keys();
RESET ROLE;
ROLLBACK;
