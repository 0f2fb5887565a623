-- name: cron_settings
-- section: §3-F 잡 레지스트리
-- The database clock and the zone pg_cron reads schedules in (cron.timezone; GMT when the
-- setting is absent, as on Supabase).
SELECT now() AS db_now,
       coalesce(nullif(current_setting('cron.timezone', true), ''), 'GMT') AS cron_timezone
