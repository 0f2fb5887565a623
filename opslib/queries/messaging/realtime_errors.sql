-- name: realtime_errors
-- section: §3-C 트리아지 1 (Realtime 연결)
-- Realtime errors in the window by event type and message (what the Realtime dashboard would
-- show). Index realtime_logs_ts_idx.
-- param: since timestamptz start (inclusive, UTC)
-- param: until timestamptz end (exclusive, UTC)
SELECT coalesce(r.event_type, '-') AS event_type, left(coalesce(r.event_message, ''), 160) AS message,
       count(*)::bigint AS errors, min(r."timestamp") AS first_at, max(r."timestamp") AS last_at
FROM logs.realtime_logs r
WHERE r."timestamp" >= :since AND r."timestamp" < :until
  AND (r.event_type IN ('channel_error', 'connection_error') OR lower(r.level) = 'error')
GROUP BY 1, 2
ORDER BY errors DESC, event_type
LIMIT 20
