-- name: edge_runs
-- section: §3-F 감지 (HTTP outcome behind "succeeded")
-- The runs of every job that calls an Edge Function (invoke_edge_function / net.http_*)
-- started in the window, with their job name when the job still exists. All such jobs,
-- not just one: they draw their request ids from the same pg_net sequence, and linking a
-- run to its response needs the runs of the others. cron.job_run_details has no index on
-- start_time (pg_cron ships none); the cron-history-cleanup job keeps it to 14 days.
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
WHERE d.start_time >= :since
  AND d.start_time < :until
  AND d.command ~* 'invoke_edge_function|net\.http_(post|get)'
ORDER BY d.start_time, d.runid
