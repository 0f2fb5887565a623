-- name: versions
-- section: §2 배포 후 관찰 (무엇이 바뀌었나: Edge Function 배포 버전)
-- Per Edge Function: the deployment versions seen in the range with their first and last
-- invocation, and the version of the function's last invocation before the range (an index
-- probe per function on function_edge_logs_fn_ts_idx), so that the version already running is
-- known after a quiet night. A NULL deployment_version falls back to metadata.version (the
-- drained source's raw field); rows with neither count as version unknown.
-- param: since timestamptz start of the range (inclusive, UTC): the before window's start
-- param: until timestamptz end of the range (exclusive, UTC): the after window's end
WITH seen AS (
  SELECT f.function_name,
         coalesce(f.deployment_version, nullif(f.metadata->>'version', '')) AS version,
         min(f."timestamp") AS first_seen,
         max(f."timestamp") AS last_seen,
         count(*)::bigint AS invocations
  FROM logs.function_edge_logs f
  WHERE f."timestamp" >= :since
    AND f."timestamp" < :until
  GROUP BY 1, 2
)
SELECT s.function_name,
       s.version,
       s.first_seen,
       s.last_seen,
       s.invocations,
       prev.version AS previous_version,
       prev."timestamp" AS previous_seen
FROM seen s
LEFT JOIN LATERAL (
  SELECT coalesce(p.deployment_version, nullif(p.metadata->>'version', '')) AS version, p."timestamp"
  FROM logs.function_edge_logs p
  WHERE p.function_name = s.function_name
    AND p."timestamp" < :since
    AND p."timestamp" >= :since - interval '7 days'
  ORDER BY p."timestamp" DESC
  LIMIT 1
) prev ON true
ORDER BY s.function_name, s.first_seen
