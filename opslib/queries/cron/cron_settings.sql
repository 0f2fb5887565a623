-- name: cron_settings
-- section: §3-F 잡 레지스트리
-- The database clock, the zone pg_cron reads schedules in (cron.timezone; GMT when the
-- setting is absent, as on Supabase) and whether pg_cron records runs at all (cron.log_run;
-- on by default): with it off, an empty job_run_details proves nothing.
SELECT now() AS db_now,
       coalesce(nullif(current_setting('cron.timezone', true), ''), 'GMT') AS cron_timezone,
       coalesce(nullif(current_setting('cron.log_run', true), ''), 'on') AS log_run
