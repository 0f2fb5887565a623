-- name: webhook_deployments
-- section: §3-A 트리아지 3 (서명 불일치: 배포와 겹치는가)
-- payment-webhook deployment versions seen in the range, with the first and last invocation of
-- each and its status mix; the caller reads the range from a few hours before the incident
-- window so that the version that was already running is known (function_edge_logs_fn_ts_idx).
-- param: since timestamptz start of the range (inclusive, UTC)
-- param: until timestamptz end of the range (exclusive, UTC)
SELECT coalesce(f.deployment_version, '(unknown)') AS deployment_version,
       min(f."timestamp") AS first_seen,
       max(f."timestamp") AS last_seen,
       count(*)::bigint AS invocations,
       count(*) FILTER (WHERE f.status_code = 401)::bigint AS status_401,
       count(*) FILTER (WHERE f.status_code BETWEEN 500 AND 599)::bigint AS status_5xx
FROM logs.function_edge_logs f
WHERE f.function_name = 'payment-webhook'
  AND f."timestamp" >= :since
  AND f."timestamp" < :until
GROUP BY 1
ORDER BY first_seen
