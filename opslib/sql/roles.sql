-- opsbook roles: run once per database by an owner (postgres / supabase_admin).
--
-- opsbook_reader: the wall behind every runbook page. SELECT on exactly the schemas the
-- runbooks read, nothing on vault, and no write of its own anywhere (no table, sequence,
-- schema CREATE, TEMP, role membership or function; see the PUBLIC note below). BYPASSRLS because every app table (and
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

ALTER ROLE opsbook_reader NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS NOINHERIT;
ALTER ROLE opsbook_reader SET default_transaction_read_only = on;
ALTER ROLE opsbook_reader SET statement_timeout = '30s';

-- The reader writes nothing. This file is re-run on every load, so first take back whatever
-- the role was ever given (by hand, by an older opsbook), then grant reading only.
DO $$
DECLARE granted record;
BEGIN
  FOR granted IN
    SELECT m.roleid::regrole AS role_name FROM pg_auth_members m
    WHERE m.member = 'opsbook_reader'::regrole
  LOOP
    EXECUTE format('REVOKE %s FROM opsbook_reader', granted.role_name);
  END LOOP;
  EXECUTE format('REVOKE CREATE, TEMPORARY ON DATABASE %I FROM opsbook_reader', current_database());
END $$;
REVOKE ALL ON ALL TABLES IN SCHEMA public, auth, storage, cron, net, logs FROM opsbook_reader;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public, auth, storage, cron, net, logs FROM opsbook_reader;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public, auth, storage, cron, net, logs FROM opsbook_reader;
REVOKE CREATE ON SCHEMA public, auth, storage, cron, net, logs FROM opsbook_reader;
REVOKE ALL ON SCHEMA vault FROM opsbook_reader;

GRANT USAGE ON SCHEMA public, auth, storage, cron, net, logs TO opsbook_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public, auth, storage, cron, net, logs TO opsbook_reader;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role() TO opsbook_reader;

-- What a per-role REVOKE cannot take away: PostgreSQL has no "deny", and a privilege granted
-- to PUBLIC is held by every role. On the contract (as on Supabase) PUBLIC may write the
-- net.* queue tables and sequence and DELETE cron.job_run_details, and by PostgreSQL's
-- defaults PUBLIC may create TEMP tables in the database and EXECUTE every function
-- (net.http_get / net.http_post included). The REVOKEs above remove any grant of the
-- reader's own; the PUBLIC ones stay. What holds them off for the reader:
--   1. every opsbook session is BEGIN READ ONLY, and the role defaults to
--      default_transaction_read_only (a read-only transaction can neither INSERT, DELETE,
--      TRUNCATE, call net.http_* (it inserts), nor CREATE TEMP TABLE). This is a guard rail:
--      a deliberate BEGIN READ WRITE by someone holding the reader's password gets past it;
--   2. the page's privilege self-test (opslib/privileges.py) lists them on every run;
--   3. to close them for good, the database owner revokes them from PUBLIC and grants them
--      to the roles that need them: opslib/sql/harden_public.sql (a decision for the owner,
--      not part of this file: it changes what every role on the database gets).

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

-- cron actions
-- Run a pg_cron job once now, and pause/resume one, as the job's owner would: pg_cron's own
-- cron.alter_job only lets the job's owner (postgres) change it, and the job's command needs
-- the owner's rights (invoke_edge_function is not granted to anyone else). Each function takes
-- a job NAME and does exactly one thing to that job: run its stored command text, or set
-- active. SECURITY DEFINER with a fixed search_path; EXECUTE for opsbook_actor only. The
-- actor writes the admin_audit_log row in the same transaction (opslib/actions/cron_jobs.py).
-- Production: run as postgres (the owner of the jobs).
CREATE OR REPLACE FUNCTION opsbook.run_cron_job_once(p_jobname text)
RETURNS TABLE (jobid bigint, command text, request_id bigint, rows_affected bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_job cron.job%ROWTYPE;
  v_req bigint;
  v_rows bigint;
BEGIN
  SELECT * INTO v_job FROM cron.job j WHERE j.jobname = p_jobname;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no pg_cron job named %', p_jobname;
  END IF;
  IF v_job.command ~* 'invoke_edge_function|net\.http_(post|get)' THEN
    -- an Edge job's command is one SELECT returning the pg_net request id
    EXECUTE v_job.command INTO v_req;
    v_rows := 1;
  ELSE
    EXECUTE v_job.command;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
  END IF;
  RETURN QUERY SELECT v_job.jobid, v_job.command, v_req, v_rows;
END $$;

CREATE OR REPLACE FUNCTION opsbook.set_cron_job_active(p_jobname text, p_active boolean)
RETURNS TABLE (jobid bigint, was_active boolean, active boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_job cron.job%ROWTYPE;
BEGIN
  SELECT * INTO v_job FROM cron.job j WHERE j.jobname = p_jobname FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no pg_cron job named %', p_jobname;
  END IF;
  IF v_job.active IS DISTINCT FROM p_active THEN
    PERFORM cron.alter_job(v_job.jobid, active := p_active);
  END IF;
  RETURN QUERY SELECT v_job.jobid, v_job.active, (SELECT j.active FROM cron.job j WHERE j.jobid = v_job.jobid);
END $$;

REVOKE ALL ON FUNCTION opsbook.run_cron_job_once(text), opsbook.set_cron_job_active(text, boolean) FROM PUBLIC;
GRANT USAGE ON SCHEMA opsbook, cron TO opsbook_actor;
GRANT SELECT ON cron.job TO opsbook_actor;
GRANT EXECUTE ON FUNCTION opsbook.run_cron_job_once(text), opsbook.set_cron_job_active(text, boolean) TO opsbook_actor;
-- messaging actions (§3-C): scheduled-dispatch kill switch and notice banner (the grants above),
-- a manual scheduled-dispatcher run through invoke_edge_function() (SECURITY DEFINER: it reads the
-- Vault secret itself, the actor never can), and stuck 'processing' messages back to 'pending'.
GRANT SELECT ON public.messages TO opsbook_actor;
GRANT UPDATE (scheduled_status, locked_by, locked_at) ON public.messages TO opsbook_actor;
GRANT EXECUTE ON FUNCTION public.invoke_edge_function(text, jsonb, int) TO opsbook_actor;
GRANT EXECUTE ON FUNCTION public.is_feature_enabled(text) TO opsbook_actor;
-- auth actions: the "로그인 점검 중" notice is a banner (the grants on public.banners above);
-- nothing more is needed.
-- storage actions (§3-D: a bucket from public to private, and back)
GRANT USAGE ON SCHEMA storage TO opsbook_actor;
GRANT SELECT ON storage.buckets, storage.objects TO opsbook_actor;
GRANT UPDATE (public, updated_at) ON storage.buckets TO opsbook_actor;
-- admin actions (§3-E): admin-role-restore changes one profile's role and status, nothing else
-- of it; admin-publish-block reuses the feature_flags grants above (enabled, metadata).
GRANT UPDATE (role, status) ON public.user_profiles TO opsbook_actor;
-- alerts (reader): the board's DB P95 reads pg_stat_statements (the extension grants SELECT on its
-- views to PUBLIC), which Supabase creates in schema extensions: the reader may look into it.
GRANT USAGE ON SCHEMA extensions TO opsbook_reader;
