-- vitaluxe_security install script, part 90: row level security, privileges,
-- pg_dump registration.  Runs last, so it covers every table the parts before it
-- created.
--
-- Who may do what:
--   extension owner (superuser)  everything; the extension's SECURITY DEFINER functions
--   security_admin               SELECT on every table and view except
--                                encryption_keys; INSERT, UPDATE on accounts, contacts,
--                                ip_geo; DELETE on contacts and ip_geo (drop an
--                                override contact, reload the geography table)
--   security_app                 SELECT, INSERT, UPDATE on accounts (the directory the
--                                app keeps in sync) and INSERT on audit_logs
--   PUBLIC                       nothing
-- encryption_keys is readable by nobody but the extension's own functions (SPEC 4):
-- no grant and, behind that, row level security without any policy.

-- ---------------------------------------------------------------------------------
-- Every table: row level security on, the security_admin policy, SELECT for
-- security_admin, and registration with pg_dump (pg_extension_config_dump) of the
-- table and of its identity sequences.  Tables with a builtin column dump only their
-- user rows: the builtin ones are re-created by CREATE EXTENSION.
DO $every_table$
DECLARE
    t   record;
    seq text;
BEGIN
    FOR t IN
        SELECT c.oid, c.relname,
               EXISTS (SELECT 1 FROM pg_catalog.pg_attribute AS a
                        WHERE a.attrelid = c.oid AND a.attname = 'builtin'
                          AND NOT a.attisdropped) AS has_builtin
          FROM pg_catalog.pg_class AS c
         WHERE c.relnamespace = 'security'::regnamespace
           AND c.relkind IN ('r', 'p')
         ORDER BY c.relname
    LOOP
        EXECUTE format('ALTER TABLE security.%I ENABLE ROW LEVEL SECURITY', t.relname);

        IF t.relname <> 'encryption_keys' THEN
            EXECUTE format('CREATE POLICY security_admin_all ON security.%I '
                           'TO security_admin USING (true) WITH CHECK (true)', t.relname);
            EXECUTE format('GRANT SELECT ON security.%I TO security_admin', t.relname);
        END IF;

        PERFORM pg_catalog.pg_extension_config_dump(
                    format('security.%I', t.relname)::regclass,
                    CASE WHEN t.has_builtin THEN 'WHERE NOT builtin' ELSE '' END);

        FOR seq IN
            SELECT pg_catalog.pg_get_serial_sequence(format('security.%I', t.relname), a.attname)
              FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = t.oid
               AND a.attidentity <> ''
               AND NOT a.attisdropped
        LOOP
            PERFORM pg_catalog.pg_extension_config_dump(seq::regclass, '');
        END LOOP;
    END LOOP;
END
$every_table$;

-- ---------------------------------------------------------------------------------
-- security_admin: the views and the tables it maintains.
GRANT SELECT ON
    security.account_security, security.security_events_tab, security.brute_force_attacks,
    security.failed_login_trends, security.phi_access, security.phi_user_baseline,
    security.active_sessions_tab, security.impersonation_tab, security.suspicious_orders,
    security.overdue_incidents, security.system_health
    TO security_admin;
GRANT INSERT, UPDATE ON security.accounts, security.contacts, security.ip_geo TO security_admin;
GRANT DELETE ON security.contacts, security.ip_geo TO security_admin;

-- ---------------------------------------------------------------------------------
-- security_app: the account directory and the PHI audit trail.
GRANT SELECT, INSERT, UPDATE ON security.accounts TO security_app;
CREATE POLICY security_app_select ON security.accounts
    FOR SELECT TO security_app USING (true);
CREATE POLICY security_app_insert ON security.accounts
    FOR INSERT TO security_app WITH CHECK (true);
CREATE POLICY security_app_update ON security.accounts
    FOR UPDATE TO security_app USING (true) WITH CHECK (true);

GRANT INSERT ON security.audit_logs TO security_app;
GRANT USAGE ON SEQUENCE security.audit_logs_id_seq TO security_app;
CREATE POLICY security_app_insert ON security.audit_logs
    FOR INSERT TO security_app WITH CHECK (true);

-- ---------------------------------------------------------------------------------
-- Nothing for PUBLIC.  Functions are created with EXECUTE for PUBLIC: take it back
-- from every function and procedure, then grant the ones each role needs.
REVOKE ALL ON ALL TABLES IN SCHEMA security FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA security FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA security FROM PUBLIC;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA security FROM PUBLIC;

-- security_app needs the clock only because the tables it writes (accounts, audit_logs)
-- stamp their rows with it by default.
GRANT EXECUTE ON FUNCTION security.now() TO security_admin, security_app;
GRANT EXECUTE ON FUNCTION security.actor() TO security_admin;
GRANT EXECUTE ON FUNCTION security.preload_active(), security.contact_email(text)
    TO security_admin;
