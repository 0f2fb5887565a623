-- name: traffic_purchases_created
-- section: §3-A 감지 (traffic)
-- Purchases created (dt_purchases.created_at) in the window and in the same window on each of the :days days before, for the traffic check
-- (silence is not health). first_event is the source's oldest event in that span: days before it
-- are "no data yet" (a log drain that started later), not zero traffic.
-- Window-bound with opslib/sql/recommended_indexes.sql (dt_purchases_created_idx: one range per day).
-- The contract itself has no index on created_at alone: there it reads dt_purchases twice, as the §3-A funnel does.
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
       count(e.created_at) AS events,
       (SELECT min(f.created_at) FROM public.dt_purchases f
         WHERE f.created_at >= :since - make_interval(days => :days) AND f.created_at < :until) AS first_event
FROM day
LEFT JOIN public.dt_purchases e
  ON e.created_at >= day.day_since AND e.created_at < day.day_until
  -- and the whole span: a table without a time index is read once, not once a day
  AND e.created_at >= :since - make_interval(days => :days) AND e.created_at < :until
GROUP BY day.days_back
ORDER BY day.days_back
