-- name: orphan_runs
-- section: §3-F 감지 (job deleted or renamed)
-- Runs in the window whose job is no longer in cron.job (unscheduled mid-window): they still
-- count for the job they ran as, matched by command.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT d.runid,
       d.jobid,
       d.status,
       d.return_message,
       d.start_time,
       d.end_time,
       d.command
FROM cron.job_run_details d
WHERE d.start_time >= :since
  AND d.start_time < :until
  AND NOT EXISTS (SELECT 1 FROM cron.job j WHERE j.jobid = d.jobid)
ORDER BY d.start_time, d.runid
