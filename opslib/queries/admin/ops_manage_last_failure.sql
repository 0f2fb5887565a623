-- name: ops_manage_last_failure
-- section: §3-E 종료 조건 (유지 시간)
-- When ops-manage last failed (5xx, 401, no status), last failed a write (those, or 429; a 403
-- is a refusal of a non-admin, not a broken publish) and last wrote successfully in the range:
-- the exit condition holds since the last failure. Writes refused with 403 since the last good
-- write are counted: one is a refusal, a run of them means admins cannot publish.
-- param: since timestamptz start of the range (inclusive, UTC)
-- param: until timestamptz end of the range (exclusive, UTC)
SELECT max(f."timestamp") FILTER (WHERE f.status_code >= 500 OR f.status_code IS NULL OR f.status_code = 401)
         AS last_failure_at,
       max(f."timestamp") FILTER (WHERE upper(f.method) IN ('POST', 'PUT', 'PATCH', 'DELETE')
                                    AND (f.status_code IS NULL OR f.status_code >= 500
                                         OR f.status_code IN (401, 429))) AS last_failed_write_at,
       max(f."timestamp") FILTER (WHERE upper(f.method) IN ('POST', 'PUT', 'PATCH', 'DELETE')
                                    AND f.status_code BETWEEN 200 AND 299) AS last_good_write_at,
       count(*) FILTER (WHERE upper(f.method) IN ('POST', 'PUT', 'PATCH', 'DELETE') AND f.status_code = 403
                          AND f."timestamp" > coalesce(
                                (SELECT max(g."timestamp") FROM logs.function_edge_logs g
                                 WHERE g.function_name = 'ops-manage' AND g."timestamp" >= :since
                                   AND g."timestamp" < :until AND g.status_code BETWEEN 200 AND 299
                                   AND upper(g.method) IN ('POST', 'PUT', 'PATCH', 'DELETE')),
                                '-infinity'))::bigint AS refused_writes_since_good
FROM logs.function_edge_logs f
WHERE f.function_name = 'ops-manage'
  AND f."timestamp" >= :since
  AND f."timestamp" < :until
