-- name: rest_status
-- section: §3-C 트리아지 1 (DB insert/update 자체: REST 에러), 트리아지 4 (팬 읽기 401/403)
-- API gateway requests on the messages tables (/rest/v1/messages, /rest/v1/message_delivery) in
-- the window by method and status class. Prefix ranges on edge_logs_path_ts_idx.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT split_part(e.path, '?', 1) AS resource, e.method,
       CASE
         WHEN e.status_code BETWEEN 200 AND 299 THEN '2xx'
         WHEN e.status_code = 401 THEN '401'
         WHEN e.status_code = 403 THEN '403'
         WHEN e.status_code BETWEEN 400 AND 499 THEN '4xx'
         WHEN e.status_code BETWEEN 500 AND 599 THEN '5xx'
         ELSE 'other'
       END AS status_class,
       count(*)::bigint AS requests
FROM logs.edge_logs e
WHERE (e.path LIKE '/rest/v1/messages%' OR e.path LIKE '/rest/v1/message\_delivery%')
  AND e."timestamp" >= :since AND e."timestamp" < :until
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
