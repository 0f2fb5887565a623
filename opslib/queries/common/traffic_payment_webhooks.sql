-- name: traffic_payment_webhooks
-- section: §3-A 감지 (traffic)
-- Payment webhook deliveries received (payment_webhook_logs) in the window and in the same window on each of the :days days before, for the traffic check
-- (silence is not health). first_event is the source's oldest event in that span: days before it
-- are "no data yet" (a log drain that started later), not zero traffic.
-- Window-bound: one index range per day (pwl_provider_received_idx, per provider: the contract's CHECK lists both) and one index probe for first_event.
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
       count(e.received_at) AS events,
       (SELECT min(f.received_at) FROM public.payment_webhook_logs f
         WHERE f.provider IN ('portone', 'tosspayments') AND f.received_at >= :since - make_interval(days => :days) AND f.received_at < :until) AS first_event
FROM day
LEFT JOIN public.payment_webhook_logs e
  ON e.provider IN ('portone', 'tosspayments') AND e.received_at >= day.day_since AND e.received_at < day.day_until
  -- and the whole span: a table without a time index is read once, not once a day
  AND e.received_at >= :since - make_interval(days => :days) AND e.received_at < :until
GROUP BY day.days_back
ORDER BY day.days_back
