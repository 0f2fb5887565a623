-- name: cron_set_active
-- section: §3-F 최소 완화 (pause / resume)
-- cron.alter_job(active := ...) on one job, as its owner (opsbook.set_cron_job_active, roles.sql).
-- param: jobname text the job's name in cron.job
-- param: active bool the wanted state
SELECT r.jobid, r.was_active, r.active
FROM opsbook.set_cron_job_active(:jobname, :active) r
