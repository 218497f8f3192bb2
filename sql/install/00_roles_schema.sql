\echo Use "CREATE EXTENSION vitaluxe_security" to load this file. \quit
-- vitaluxe_security install script, part 00: roles and schema privileges.
--
-- The schema itself is created by CREATE EXTENSION (control file: schema = security);
-- this script never creates or relocates it.
--
-- Roles are cluster-wide objects, not extension members: they are created only when
-- missing, are left alone when they already exist (another database of the cluster
-- may have created them), and survive DROP EXTENSION.
--   security_admin  reads the Security tabs (views, tables), runs admin functions
--   security_app    what the application's database role needs on every login
-- Both are NOLOGIN group roles: grant them to the real login roles.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'security_admin') THEN
        CREATE ROLE security_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'security_app') THEN
        CREATE ROLE security_app NOLOGIN;
    END IF;
END
$roles$;

REVOKE ALL ON SCHEMA security FROM PUBLIC;
GRANT USAGE ON SCHEMA security TO security_admin, security_app;
