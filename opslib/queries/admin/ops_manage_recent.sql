-- name: ops_manage_recent
-- section: §3-E 종료 조건 (ops-manage HTTP 200 응답)
-- The last N ops-manage invocations before the end of the window, looking back at most to
-- `since` (a quiet night still finds the evening's calls; the index is read backwards from until).
-- param: since timestamptz how far back to look (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: last int how many invocations (N)
SELECT f."timestamp" AS at, f.method, f.status_code, f.deployment_version,
       upper(f.method) IN ('POST', 'PUT', 'PATCH', 'DELETE') AS is_write
FROM logs.function_edge_logs f
WHERE f.function_name = 'ops-manage'
  AND f."timestamp" >= :since
  AND f."timestamp" < :until
ORDER BY f."timestamp" DESC
LIMIT :last
