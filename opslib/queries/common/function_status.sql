-- name: function_status
-- section: §3-C 트리아지 1 (scheduled-dispatcher 호출/상태 코드); any page reading one Edge Function's answers
-- One Edge Function's invocations per bucket and status class (2xx, 401, other 4xx, 5xx, other =
-- 1xx/3xx or no status recorded), from the drained function_edge_logs source, with the latest
-- invocation of each bucket (function_edge_logs_fn_ts_idx).
-- param: function_name text the Edge Function, e.g. scheduled-dispatcher
-- param: since timestamptz start of the window (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: bucket interval bucket width
SELECT date_bin(:bucket, f."timestamp", :since) AS bucket_start,
       CASE
         WHEN f.status_code BETWEEN 200 AND 299 THEN '2xx'
         WHEN f.status_code = 401 THEN '401'
         WHEN f.status_code BETWEEN 400 AND 499 THEN '4xx'
         WHEN f.status_code BETWEEN 500 AND 599 THEN '5xx'
         ELSE 'other'
       END AS status_class,
       count(*)::bigint AS invocations,
       max(f."timestamp") AS last_at
FROM logs.function_edge_logs f
WHERE f.function_name = :function_name
  AND f."timestamp" >= :since
  AND f."timestamp" < :until
GROUP BY bucket_start, status_class
ORDER BY bucket_start, status_class
