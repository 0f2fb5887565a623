-- name: job_registry
-- section: §3-F 잡 레지스트리
-- Every pg_cron job (cron.job is small: one row per job). The reader role has BYPASSRLS,
-- so jobs owned by other users (cron.job's RLS shows only your own) are seen too.
SELECT j.jobid,
       j.jobname,
       j.schedule,
       j.command,
       j.active,
       j.username,
       j.database
FROM cron.job j
ORDER BY j.jobid
