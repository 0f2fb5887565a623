-- name: ops_manage_errors
-- section: §3-E 트리아지 2 (ops-manage 함수 로그)
-- ops-manage console errors and warnings in the window, grouped by message (ids and numbers
-- folded so that one failure reads as one line) and by the deployment version that served the
-- invocation (matched on execution_id within the window; '(unknown)' when the edge log is missing).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH lines AS (
  SELECT l."timestamp", l.level, l.execution_id,
         left(regexp_replace(regexp_replace(l.event_message,
              '[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F][0-9a-fA-F]+', '<id>', 'g'),
              '[0-9][0-9][0-9]+', '<n>', 'g'), 240) AS message
  FROM logs.function_logs l
  WHERE l.function_name = 'ops-manage'
    AND l.level IN ('warn', 'error')
    AND l."timestamp" >= :since
    AND l."timestamp" < :until
), served AS (
  SELECT DISTINCT ON (e.execution_id) e.execution_id, e.deployment_version, e.status_code
  FROM logs.function_edge_logs e
  WHERE e.function_name = 'ops-manage'
    AND e."timestamp" >= :since - interval '5 minutes'
    AND e."timestamp" < :until + interval '5 minutes'
    AND e.execution_id IS NOT NULL
  ORDER BY e.execution_id, e."timestamp"
)
SELECT l.message,
       l.level,
       coalesce(s.deployment_version, '(unknown)') AS deployment_version,
       count(*)::bigint AS lines,
       string_agg(DISTINCT s.status_code::text, ', ') AS status_codes,
       min(l."timestamp") AS first_at,
       max(l."timestamp") AS last_at
FROM lines l
LEFT JOIN served s ON s.execution_id = l.execution_id
GROUP BY 1, 2, 3
ORDER BY min(l."timestamp")
