-- name: traffic_api_requests
-- section: §2 배포 후 관찰 (traffic)
-- Every API request through the gateway (logs.edge_logs) in the window and in the same window on each of the :days days before, for the traffic check
-- (silence is not health: a release that breaks the app's start-up sends no requests at all). first_event is the source's oldest event in that span.
-- Window-bound: one index range per day (edge_logs_ts_idx) and one index probe for first_event.
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
       count(e."timestamp") AS events,
       (SELECT min(f."timestamp") FROM logs.edge_logs f
         WHERE f."timestamp" >= :since - make_interval(days => :days) AND f."timestamp" < :until) AS first_event
FROM day
LEFT JOIN logs.edge_logs e
  ON e."timestamp" >= day.day_since AND e."timestamp" < day.day_until
  AND e."timestamp" >= :since - make_interval(days => :days) AND e."timestamp" < :until
GROUP BY day.days_back
ORDER BY day.days_back
