-- name: traffic_cron_runs
-- section: §3-F 감지 (traffic)
-- pg_cron job runs started (cron.job_run_details) in the window and in the same window on each of the :days days before, for the traffic check
-- (silence is not health). first_event is the source's oldest event in that span: days before it
-- are "no data yet" (a log drain that started later), not zero traffic.
-- cron.job_run_details has no time index (pg_cron ships none): this reads it twice; the table is
-- kept small by the contract's cron-history-cleanup job (14 days).
-- param: since timestamptz  start of the window (inclusive, UTC)
-- param: until timestamptz  end of the window (exclusive, UTC)
-- param: days int  how many previous days to compare with
WITH day AS MATERIALIZED (
  SELECT g AS days_back,
         :since - make_interval(days => g) AS day_since,
         :until - make_interval(days => g) AS day_until
  FROM generate_series(0, :days) g
)
SELECT day.days_back,
       count(e.start_time) AS events,
       (SELECT min(f.start_time) FROM cron.job_run_details f
         WHERE f.start_time >= :since - make_interval(days => :days) AND f.start_time < :until) AS first_event
FROM day
LEFT JOIN cron.job_run_details e
  ON e.start_time >= day.day_since AND e.start_time < day.day_until
  -- and the whole span: a table without a time index is read once, not once a day
  AND e.start_time >= :since - make_interval(days => :days) AND e.start_time < :until
GROUP BY day.days_back
ORDER BY day.days_back
