-- name: service_key_logs
-- section: §3-E 트리아지 3 (SUPABASE_SERVICE_ROLE_KEY 환경변수 설정 확인)
-- ops-manage log lines in the window that name the service-role key (missing, empty, invalid),
-- with the status and version of the invocation that logged them. Read from the logs only:
-- the key itself is never read (function_logs_fn_ts_idx; the invocation by execution_id).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: patterns text[] case-insensitive regular expressions for the key's log messages
SELECT l."timestamp" AS at, l.level, l.execution_id, left(l.event_message, 300) AS message,
       e.status_code, e.deployment_version
FROM logs.function_logs l
LEFT JOIN LATERAL (
  SELECT f.status_code, f.deployment_version
  FROM logs.function_edge_logs f
  WHERE f.function_name = 'ops-manage' AND f.execution_id = l.execution_id
    AND f."timestamp" BETWEEN l."timestamp" - interval '5 minutes' AND l."timestamp" + interval '5 minutes'
  ORDER BY f."timestamp"
  LIMIT 1
) e ON true
WHERE l.function_name = 'ops-manage'
  AND l."timestamp" >= :since AND l."timestamp" < :until
  AND l.event_message ~* ANY (CAST(:patterns AS text[]))
ORDER BY l."timestamp"
