-- name: run_durations
-- section: §3-F 감지 (duration drift)
-- Each job's own history before the window: median and p95 duration of its finished runs,
-- the baseline the window's runs are compared with.
-- param: since timestamptz start of the history (inclusive, UTC)
-- param: until timestamptz end of the history (exclusive, UTC): the window's start
SELECT d.jobid,
       count(*)::bigint AS runs,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.end_time - d.start_time))::float8 AS p50_s,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM d.end_time - d.start_time))::float8 AS p95_s
FROM cron.job_run_details d
WHERE d.start_time >= :since
  AND d.start_time < :until
  AND d.status = 'succeeded'
  AND d.end_time IS NOT NULL
GROUP BY d.jobid
