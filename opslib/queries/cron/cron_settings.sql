-- name: cron_settings
-- section: §3-F 잡 레지스트리
-- The database clock, the zone pg_cron reads schedules in (cron.timezone; GMT when absent, as on
-- Supabase) and whether pg_cron records runs (cron.log_run; on by default). Read from pg_settings,
-- not current_setting(): the real pg_cron marks some of its settings superuser-only, and
-- current_setting() then raises for the reader role, where pg_settings just hides the row
-- (NULL here: the page says it assumed the default).
SELECT now() AS db_now,
       (SELECT s.setting FROM pg_catalog.pg_settings s WHERE s.name = 'cron.timezone') AS cron_timezone,
       (SELECT s.setting FROM pg_catalog.pg_settings s WHERE s.name = 'cron.log_run') AS log_run
