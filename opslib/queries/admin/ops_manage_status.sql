-- name: ops_manage_status
-- section: §3-E 감지 (ops-manage Edge Function 에러)
-- ops-manage invocations per 5-minute bucket, status class and whether the call wrote
-- (POST/PUT/PATCH/DELETE: a publish, a flag or role change) or read, from the drained
-- function_edge_logs source (function_edge_logs_fn_ts_idx). No status recorded counts as 'other'.
-- param: since timestamptz start of the window (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: bucket interval bucket width (5 minutes on the page)
SELECT date_bin(:bucket, f."timestamp", :since) AS bucket_start,
       CASE
         WHEN f.status_code BETWEEN 200 AND 299 THEN '2xx'
         WHEN f.status_code = 401 THEN '401'
         WHEN f.status_code = 403 THEN '403'
         WHEN f.status_code = 429 THEN '429'
         WHEN f.status_code BETWEEN 400 AND 499 THEN '4xx'
         WHEN f.status_code BETWEEN 500 AND 599 THEN '5xx'
         ELSE 'other'
       END AS status_class,
       upper(f.method) IN ('POST', 'PUT', 'PATCH', 'DELETE') AS is_write,
       count(*)::bigint AS invocations
FROM logs.function_edge_logs f
WHERE f.function_name = 'ops-manage'
  AND f."timestamp" >= :since
  AND f."timestamp" < :until
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
