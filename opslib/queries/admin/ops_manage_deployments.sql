-- name: ops_manage_deployments
-- section: §3-E 트리아지 2 (에러 vs 배포 버전)
-- ops-manage deployment versions seen in the range with their first and last invocation and
-- status mix; the caller starts the range hours before the window so that the version already
-- running is known (function_edge_logs_fn_ts_idx).
-- param: since timestamptz start of the range (inclusive, UTC)
-- param: until timestamptz end of the range (exclusive, UTC)
SELECT coalesce(f.deployment_version, '(unknown)') AS deployment_version,
       min(f."timestamp") AS first_seen,
       max(f."timestamp") AS last_seen,
       count(*)::bigint AS invocations,
       count(*) FILTER (WHERE f.status_code BETWEEN 200 AND 299)::bigint AS status_2xx,
       count(*) FILTER (WHERE f.status_code = 401)::bigint AS status_401,
       count(*) FILTER (WHERE f.status_code >= 500 OR f.status_code IS NULL)::bigint AS status_5xx,
       min(f."timestamp") FILTER (WHERE f.status_code >= 500 OR f.status_code IS NULL OR f.status_code = 401)
         AS first_error_at
FROM logs.function_edge_logs f
WHERE f.function_name = 'ops-manage'
  AND f."timestamp" >= :since
  AND f."timestamp" < :until
GROUP BY 1
ORDER BY first_seen
