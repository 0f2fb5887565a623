-- name: failed_requests
-- section: §3-D 트리아지 1 (examples) / 복구 (CORS)
-- The most recent failed Storage API requests of the window (status >= 400, or no status: the client
-- went away), with area and storage bucket as in requests_buckets, the request's Origin header from
-- the drained metadata (CORS) and the gateway's message. Masked on the page (paths carry user ids).
-- Uses edge_logs_errors_idx (timestamp) WHERE status_code >= 400, plus the no-status rows.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: max_rows int most rows returned (newest first)
SELECT e."timestamp" AS at,
       e.method,
       CASE WHEN s.seg1 IN ('sign', 'public', 'authenticated', 'upload', 'list', 'info', 'move', 'copy')
            THEN s.seg1 ELSE '' END AS area,
       CASE WHEN s.seg1 = 'upload' THEN split_part(e.path, '/', 7)
            WHEN s.seg1 IN ('sign', 'public', 'authenticated', 'list', 'info', 'move', 'copy')
            THEN split_part(e.path, '/', 6)
            ELSE s.seg1 END AS bucket_id,
       e.path,
       e.status_code,
       e.user_id,
       e.client_platform AS platform,
       e.metadata -> 'request' -> 'headers' ->> 'origin' AS origin,
       e.event_message
FROM logs.edge_logs e
CROSS JOIN LATERAL (SELECT split_part(e.path, '/', 5) AS seg1) s
WHERE e."timestamp" >= :since
  AND e."timestamp" < :until
  AND e.path LIKE '/storage/v1/object/%'
  AND (e.status_code >= 400 OR e.status_code IS NULL)
ORDER BY e."timestamp" DESC
LIMIT :max_rows
