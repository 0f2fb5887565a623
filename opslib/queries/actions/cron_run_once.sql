-- name: cron_run_once
-- section: §3-F 복구 (수동 트리거)
-- Run the job's stored command once, as its owner (opsbook.run_cron_job_once, roles.sql).
-- param: jobname text the job's name in cron.job
SELECT r.jobid, r.command, r.request_id, r.rows_affected
FROM opsbook.run_cron_job_once(:jobname) r
