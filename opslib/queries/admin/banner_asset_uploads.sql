-- name: banner_asset_uploads
-- section: §3-E 감지 (자산 업로드/퍼블리시 불가)
-- Uploads into the public 'banners' bucket through the API gateway in the window, by status
-- class (edge_logs_path_ts_idx: a path prefix and a time range).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT CASE
         WHEN e.status_code BETWEEN 200 AND 299 THEN '2xx'
         WHEN e.status_code BETWEEN 400 AND 499 THEN e.status_code::text
         WHEN e.status_code BETWEEN 500 AND 599 THEN '5xx'
         ELSE 'other'
       END AS status_class,
       count(*)::bigint AS uploads,
       min(e."timestamp") AS first_at,
       max(e."timestamp") AS last_at
FROM logs.edge_logs e
WHERE e.path LIKE '/storage/v1/object/banners/%'
  AND upper(e.method) IN ('POST', 'PUT')
  AND e."timestamp" >= :since
  AND e."timestamp" < :until
GROUP BY 1
ORDER BY 1
