-- name: traffic_storage_object_requests
-- section: §3-D 감지 (traffic)
-- Storage object requests through the gateway (logs.edge_logs /storage/v1/object...) in the window and in the same window on each of the :days days before, for the traffic check
-- (silence is not health). first_event is the source's oldest event in that span: days before it
-- are "no data yet" (a log drain that started later), not zero traffic.
-- Window-bound: one index range per day (edge_logs_ts_idx or edge_logs_path_ts_idx) and one index probe for first_event.
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
         WHERE f.path LIKE '/storage/v1/object%' AND f."timestamp" >= :since - make_interval(days => :days) AND f."timestamp" < :until) AS first_event
FROM day
LEFT JOIN logs.edge_logs e
  ON e.path LIKE '/storage/v1/object%' AND e."timestamp" >= day.day_since AND e."timestamp" < day.day_until
  -- and the whole span: a table without a time index is read once, not once a day
  AND e."timestamp" >= :since - make_interval(days => :days) AND e."timestamp" < :until
GROUP BY day.days_back
ORDER BY day.days_back
