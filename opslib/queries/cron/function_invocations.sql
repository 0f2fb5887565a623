-- name: function_invocations
-- section: §3-F 감지 (logs.function_edge_logs)
-- The named Edge Functions' own invocation log in the window (function_edge_logs_fn_ts_idx):
-- status code, execution time, cold start, deployment version.
-- param: functions text[] Edge Function names
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT f.function_name,
       f."timestamp",
       f.status_code,
       f.execution_time_ms,
       f.boot_time_ms,
       f.deployment_version,
       f.execution_id
FROM logs.function_edge_logs f
WHERE f.function_name = ANY(:functions)
  AND f."timestamp" >= :since
  AND f."timestamp" < :until
ORDER BY f."timestamp"
