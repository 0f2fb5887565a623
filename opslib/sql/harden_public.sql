-- OPTIONAL, for the database owner: close the write privileges that PUBLIC (every role) holds.
--
-- opsbook never runs this file itself: it changes what every role on the database gets, which is
-- the owner's decision, not a runbook tool's. It is what makes opsbook_reader's wall complete:
-- PostgreSQL has no per-role "deny", so a privilege granted to PUBLIC cannot be taken from one
-- role (opslib/sql/roles.sql can only remove the reader's own grants). Until this is applied, the
-- page's privilege self-test lists these PUBLIC grants on every run, and only the read-only
-- transaction (a guard rail a deliberate BEGIN READ WRITE gets past) keeps the reader off them.
--
-- What it changes, and who keeps it:
--   net.* tables and sequence (pg_net's queue: a row there is an outbound HTTP request) and
--   EXECUTE on net.http_get / net.http_post: PUBLIC loses them; postgres and service_role keep them
--   (the contract's cron jobs call net.http_post through public.invoke_edge_function, a
--   SECURITY DEFINER function owned by postgres, so they are unaffected); every other role keeps
--   SELECT on the net tables only through its own grants (opsbook_reader has its own).
--   DELETE on cron.job_run_details and EXECUTE on cron.schedule / cron.unschedule: PUBLIC loses
--   them; postgres (the jobs' owner) keeps them.
--   TEMPORARY on this database: PUBLIC loses it; postgres and service_role keep it.
-- Review before applying on Supabase: a client that really uses pg_net as anon/authenticated
-- (rare; Database Webhooks run as their own definer) must be granted explicitly.
-- Undo: GRANT the same privileges back TO PUBLIC.
BEGIN;
REVOKE ALL ON ALL TABLES IN SCHEMA net FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA net FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA net FROM PUBLIC;
GRANT ALL ON ALL TABLES IN SCHEMA net TO postgres, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA net TO postgres, service_role;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA net TO postgres, service_role;

REVOKE DELETE ON cron.job_run_details FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION cron.schedule(text, text), cron.schedule(text, text, text),
                           cron.unschedule(text), cron.unschedule(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cron.schedule(text, text), cron.schedule(text, text, text),
                          cron.unschedule(text), cron.unschedule(bigint) TO postgres;

DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO postgres, service_role', current_database());
END $$;
COMMIT;
