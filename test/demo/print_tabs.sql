-- Prints every admin Security tab. Steps \ir this after they change something.
-- Columns vary by view; ordering is left to each view.

\echo
\echo '---- Security > Account Security (security.account_security)'
SELECT * FROM security.account_security;
\echo '---- Security > Security Events (security.security_events_tab)'
SELECT * FROM security.security_events_tab;
\echo '---- Security > Brute force attacks (security.brute_force_attacks)'
SELECT * FROM security.brute_force_attacks;
\echo '---- Security > Failed login trends (security.failed_login_trends)'
SELECT * FROM security.failed_login_trends;
\echo '---- Security > PHI Access (security.phi_access)'
SELECT * FROM security.phi_access;
\echo '---- Security > PHI user baseline (security.phi_user_baseline)'
SELECT * FROM security.phi_user_baseline;
\echo '---- Security > Active Sessions (security.active_sessions_tab)'
SELECT * FROM security.active_sessions_tab;
\echo '---- Security > Impersonation (security.impersonation_tab)'
SELECT * FROM security.impersonation_tab;
\echo '---- Orders > Suspicious orders (security.suspicious_orders)'
SELECT * FROM security.suspicious_orders;
\echo '---- Incidents > Overdue (security.overdue_incidents)'
SELECT * FROM security.overdue_incidents;
\echo '---- System health (security.system_health)'
SELECT * FROM security.system_health;
