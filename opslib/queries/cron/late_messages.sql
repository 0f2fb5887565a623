-- name: late_messages
-- section: §3-F 영향 (the dispatcher's late messages) / §3-C
-- Scheduled messages due in the window and still not sent: pending past their due time
-- (messages_due_idx) or claimed and stuck in processing (messages_processing_idx).
-- param: at timestamptz the instant judged (the window end, or now if earlier)
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: grace interval due this long ago or more counts as late
SELECT m.scheduled_status,
       count(*)::bigint AS messages,
       min(m.scheduled_at) AS oldest_due,
       max(extract(epoch FROM :at - m.scheduled_at))::float8 AS max_late_s
FROM public.messages m
WHERE m.scheduled_status = 'pending'
  AND m.scheduled_at >= :since
  AND m.scheduled_at < :until
  AND m.scheduled_at < :at - :grace
GROUP BY m.scheduled_status
UNION ALL
SELECT m.scheduled_status, count(*)::bigint, min(m.scheduled_at), max(extract(epoch FROM :at - m.scheduled_at))::float8
FROM public.messages m
WHERE m.scheduled_status = 'processing'
  AND m.locked_at >= :since
  AND m.locked_at < :until
  AND m.locked_at < :at - :grace
GROUP BY m.scheduled_status
