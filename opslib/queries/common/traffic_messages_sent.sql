-- name: traffic_messages_sent
-- section: §3-C 감지 (traffic)
-- Messages sent (messages.sent_at: one per message, whatever its audience; deliveries
-- come in bursts of one message's fan-out and would make a poor baseline) in the window and in the same window on each of the :days days before, for the traffic check
-- (silence is not health). first_event is the source's oldest event in that span: days before it
-- are "no data yet" (a log drain that started later), not zero traffic.
-- The contract has no index on messages.sent_at: this reads messages (one row per message, not per
-- recipient) twice.
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
       count(e.sent_at) AS events,
       (SELECT min(f.sent_at) FROM public.messages f
         WHERE f.sent_at >= :since - make_interval(days => :days) AND f.sent_at < :until) AS first_event
FROM day
LEFT JOIN public.messages e
  ON e.sent_at >= day.day_since AND e.sent_at < day.day_until
  -- and the whole span: a table without a time index is read once, not once a day
  AND e.sent_at >= :since - make_interval(days => :days) AND e.sent_at < :until
GROUP BY day.days_back
ORDER BY day.days_back
