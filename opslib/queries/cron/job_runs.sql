-- name: job_runs
-- section: §3-F 감지
-- The runs of the named job(s) started in the window. A job deleted and scheduled again
-- gets a new jobid: runs of the old one are not found by name any more.
-- param: jobids bigint[] the jobs' ids in cron.job
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT d.runid,
       d.jobid,
       j.jobname,
       d.status,
       d.return_message,
       d.start_time,
       d.end_time,
       d.command
FROM cron.job_run_details d
LEFT JOIN cron.job j ON j.jobid = d.jobid
WHERE d.jobid = ANY(:jobids)
  AND d.start_time >= :since
  AND d.start_time < :until
ORDER BY d.start_time, d.runid
