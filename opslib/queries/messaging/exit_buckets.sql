-- name: exit_buckets
-- section: §3-C 종료 조건 (메시지 전달 지연 < 2초, 5분 연속 유지), §4-E 백로그 / Realtime 지연
-- Per bucket of [since, until):
--   due:               messages due in the bucket;
--   late_sent:         messages sent in the bucket more than :late_after after their due time;
--   late_waiting:      messages still unsent at the bucket's end more than :late_after after their
--                      due time (a message left waiting keeps every later minute bad, not only its own);
--   backlog_end:       messages overdue and not yet sent at the bucket's end: pending now (partial
--                      index) or sent after the bucket ended (messages_sent_idx);
--   deliveries:        inbox rows delivered in the bucket for messages sent in the range, and the
--                      P95 of delivered_at - sent_at (the fan-out after the dispatcher sent it, ms);
--   realtime:          events, errors and delivery latency P95 from realtime_logs.
-- Messages sent in the range are read by sent_at, due ones by due time through the pending index
-- or sent_at; deliveries through message_delivery_uniq. Every part is bound by the range.
-- param: since timestamptz start of the range (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the range (exclusive, UTC)
-- param: bucket interval bucket width
-- param: late_after interval a message sent later than this after its due time was late
WITH buckets AS (
  SELECT b AS bucket_start, least(b + :bucket, :until) AS bucket_end
  FROM generate_series(:since, :until - interval '1 microsecond', :bucket) b
),
sent AS (
  SELECT m.id, coalesce(m.scheduled_at, m.created_at) AS due_at, m.sent_at
  FROM public.messages m
  WHERE m.sent_at >= :since AND m.sent_at < :until
),
waiting AS (
  -- one branch per status: each reads its own partial index (an IN list would read neither)
  SELECT m.id, coalesce(m.scheduled_at, m.created_at) AS due_at, NULL::timestamptz AS sent_at
  FROM public.messages m
  WHERE m.scheduled_status = 'pending' AND coalesce(m.scheduled_at, m.created_at) < :until
  UNION ALL
  SELECT m.id, coalesce(m.scheduled_at, m.created_at), NULL::timestamptz
  FROM public.messages m
  WHERE m.scheduled_status = 'processing' AND coalesce(m.scheduled_at, m.created_at) < :until
),
due AS (
  SELECT * FROM sent UNION ALL SELECT * FROM waiting
),
delivered AS (
  SELECT d.delivered_at, extract(epoch FROM d.delivered_at - s.sent_at) * 1000 AS fanout_ms
  FROM sent s
  JOIN public.message_delivery d ON d.message_id = s.id AND d.channel = 'inbox'
  WHERE d.delivered_at >= :since AND d.delivered_at < :until
),
rt AS (
  SELECT r."timestamp", r.latency_ms,
         (r.event_type IN ('channel_error', 'connection_error') OR lower(r.level) = 'error') AS is_error
  FROM logs.realtime_logs r
  WHERE r."timestamp" >= :since AND r."timestamp" < :until
)
SELECT b.bucket_start, b.bucket_end,
       (SELECT count(*) FROM due x WHERE x.due_at >= b.bucket_start AND x.due_at < b.bucket_end)::bigint AS due,
       (SELECT count(*) FROM due x
         WHERE x.sent_at >= b.bucket_start AND x.sent_at < b.bucket_end
           AND x.sent_at - x.due_at > :late_after)::bigint AS late_sent,
       (SELECT count(*) FROM due x
         WHERE x.due_at < b.bucket_end - :late_after
           AND (x.sent_at IS NULL OR x.sent_at >= b.bucket_end))::bigint AS late_waiting,
       (SELECT count(*) FROM due x
         WHERE x.due_at < b.bucket_end AND (x.sent_at IS NULL OR x.sent_at >= b.bucket_end))::bigint AS backlog_end,
       (SELECT count(*) FROM delivered x
         WHERE x.delivered_at >= b.bucket_start AND x.delivered_at < b.bucket_end)::bigint AS deliveries,
       (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x.fanout_ms) FROM delivered x
         WHERE x.delivered_at >= b.bucket_start AND x.delivered_at < b.bucket_end)::float8 AS delivery_p95_ms,
       (SELECT count(*) FROM rt x WHERE x."timestamp" >= b.bucket_start AND x."timestamp" < b.bucket_end)::bigint AS rt_events,
       (SELECT count(*) FROM rt x
         WHERE x."timestamp" >= b.bucket_start AND x."timestamp" < b.bucket_end AND x.is_error)::bigint AS rt_errors,
       (SELECT count(x.latency_ms) FROM rt x
         WHERE x."timestamp" >= b.bucket_start AND x."timestamp" < b.bucket_end)::bigint AS rt_latency_samples,
       (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x.latency_ms) FROM rt x
         WHERE x."timestamp" >= b.bucket_start AND x."timestamp" < b.bucket_end)::float8 AS rt_latency_p95_ms
FROM buckets b
ORDER BY b.bucket_start
