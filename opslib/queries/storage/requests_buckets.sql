-- name: requests_buckets
-- section: §3-D 감지 / 트리아지 1 / 복구 / 종료 조건
-- Storage API requests (logs.edge_logs, paths under /storage/v1/object/) per 5-minute bucket (aligned on
-- the since bound), by method, area, storage bucket, status, caller and client platform. The area is the
-- path's first segment when it is an endpoint name (sign, public, authenticated, upload, list, info, move,
-- copy), else '' (an upload, download or delete by bucket); the storage bucket is the segment after it
-- (after 'upload/sign' for a signed upload). Which request is an upload, a URL generation or a read is
-- decided in opslib.storage.requests from method and area. as_user: the request carried a user's JWT
-- (user_id set); a service-role or anonymous call has none. status_code NULL: the client went away.
-- param: since timestamptz start of the window (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: bucket interval bucket width (5 minutes on the page)
SELECT date_bin(:bucket, e."timestamp", :since) AS bucket_start,
       e.method,
       CASE WHEN s.seg1 IN ('sign', 'public', 'authenticated', 'upload', 'list', 'info', 'move', 'copy')
            THEN s.seg1 ELSE '' END AS area,
       CASE WHEN s.seg1 = 'upload' THEN split_part(e.path, '/', 7)
            WHEN s.seg1 IN ('sign', 'public', 'authenticated', 'list', 'info', 'move', 'copy')
            THEN split_part(e.path, '/', 6)
            ELSE s.seg1 END AS bucket_id,
       e.status_code,
       e.user_id IS NOT NULL AS as_user,
       coalesce(e.client_platform, '') AS platform,
       count(*)::bigint AS requests
FROM logs.edge_logs e
CROSS JOIN LATERAL (SELECT split_part(e.path, '/', 5) AS seg1) s
WHERE e."timestamp" >= :since
  AND e."timestamp" < :until
  AND e.path LIKE '/storage/v1/object/%'
GROUP BY 1, 2, 3, 4, 5, 6, 7
ORDER BY 1, 2, 3, 4, 5
