-- opsbook roles: run once per database by an owner (postgres / supabase_admin).
--
-- opsbook_reader: the wall behind every runbook page. SELECT on exactly the schemas the
-- runbooks read and nothing on vault. BYPASSRLS because every app table (and
-- cron.job_run_details) has row-level security: a reader without it sees empty tables
-- and every page would report all clear.
-- opsbook_actor: the separate credentials of opslib.actions (kill switch, banner).
-- It may update flags, publish banners and write audit rows; nothing else.
--
-- Production: create the roles with a password (ALTER ROLE ... PASSWORD) held in the
-- on-call secret store, and point OPSBOOK_DATABASE_URL / OPSBOOK_ACTION_DATABASE_URL at them.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsbook_reader') THEN
    CREATE ROLE opsbook_reader LOGIN BYPASSRLS NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'opsbook_actor') THEN
    CREATE ROLE opsbook_actor LOGIN BYPASSRLS NOINHERIT;
  END IF;
END $$;

ALTER ROLE opsbook_reader SET default_transaction_read_only = on;
ALTER ROLE opsbook_reader SET statement_timeout = '30s';

GRANT USAGE ON SCHEMA public, auth, storage, cron, net, logs TO opsbook_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public, auth, storage, cron, net, logs TO opsbook_reader;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role() TO opsbook_reader;
REVOKE ALL ON SCHEMA vault FROM opsbook_reader;

GRANT USAGE ON SCHEMA public, auth TO opsbook_actor;
GRANT SELECT ON public.feature_flags, public.banners, public.admin_audit_log, public.user_profiles TO opsbook_actor;
GRANT UPDATE (enabled, metadata, updated_by) ON public.feature_flags TO opsbook_actor;
GRANT INSERT ON public.banners, public.admin_audit_log TO opsbook_actor;
GRANT UPDATE (is_active, ends_at) ON public.banners TO opsbook_actor;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role() TO opsbook_actor;

-- cron / messaging: the Vault cron_secret as a digest, never the value.
-- The reader has nothing on vault. To compare Vault's cron_secret with the Edge Functions'
-- CRON_SECRET (Supabase's Management API lists Edge secrets as SHA-256 digests) the page
-- needs the Vault side as a digest too. This function, owned by the role that runs this
-- file (postgres on Supabase, which may read vault.decrypted_secrets), returns only the
-- hex SHA-256 of that one secret and when it was last changed. SECURITY DEFINER with an
-- empty search_path (every name qualified), EXECUTE for opsbook_reader only.
-- Production: run this block as postgres; without it the page's secret check reads
-- NOT_EVALUATED and names this function.
CREATE SCHEMA IF NOT EXISTS opsbook;
REVOKE ALL ON SCHEMA opsbook FROM PUBLIC;
CREATE OR REPLACE FUNCTION opsbook.cron_secret_sha256()
RETURNS TABLE (sha256_hex text, updated_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = '' AS $$
BEGIN
  RETURN QUERY
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(s.decrypted_secret, 'UTF8')), 'hex'),
           s.updated_at
    FROM vault.decrypted_secrets s
    WHERE s.name = 'cron_secret';
END $$;
REVOKE ALL ON FUNCTION opsbook.cron_secret_sha256() FROM PUBLIC;
GRANT USAGE ON SCHEMA opsbook TO opsbook_reader;
GRANT EXECUTE ON FUNCTION opsbook.cron_secret_sha256() TO opsbook_reader;

-- admin actions (§3-E): admin-role-restore changes one profile's role and status, nothing else
-- of it; admin-publish-block reuses the feature_flags grants above (enabled, metadata).
GRANT UPDATE (role, status) ON public.user_profiles TO opsbook_actor;
