-- name: cron_job_read
-- section: §3-F 최소 완화 / 복구
-- One pg_cron job by name: what a run-once would execute and whether it is active.
-- param: jobname text the job's name in cron.job
SELECT j.jobid, j.jobname, j.schedule, j.command, j.active, j.username
FROM cron.job j
WHERE j.jobname = :jobname
