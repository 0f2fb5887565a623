-- name: upload_failed_events
-- section: §3-D 감지 (Sentry: storage_upload_failed)
-- `storage_upload_failed` events that reached the Edge Function console (logs.function_logs) in the
-- window, per function: warn/error lines (runbook §4-A: user-affecting events are WARN or ERROR) whose
-- message names the event. Sentry itself is outside the database; this is where the event is logged
-- when a function logs it. Uses function_logs_problems_idx (timestamp) WHERE level IN ('warn', 'error').
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT l.function_name,
       count(*)::bigint AS events,
       min(l."timestamp") AS first_at,
       max(l."timestamp") AS last_at,
       (array_agg(l.event_message ORDER BY l."timestamp" DESC))[1] AS latest_message
FROM logs.function_logs l
WHERE l."timestamp" >= :since
  AND l."timestamp" < :until
  AND l.level IN ('warn', 'error')
  AND l.event_message LIKE '%storage_upload_failed%'
GROUP BY l.function_name
ORDER BY events DESC
