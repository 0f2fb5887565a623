-- name: function_errors
-- section: §3-F 트리아지 (5xx: the function's own errors)
-- The named Edge Functions' console errors in the window (function_logs_problems_idx).
-- param: functions text[] Edge Function names
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT f."timestamp",
       f.function_name,
       f.level,
       f.execution_id,
       left(f.event_message, 300) AS event_message
FROM logs.function_logs f
WHERE f."timestamp" >= :since
  AND f."timestamp" < :until
  AND f.level IN ('warn', 'error')
  AND f.function_name = ANY(:functions)
ORDER BY f."timestamp"
