-- name: upload_impact
-- section: §3-D 영향 (users and uploads failed, per bucket)
-- Uploads (POST/PUT on /storage/v1/object/<bucket>/... or a signed upload PUT on /object/upload/sign/...)
-- per storage bucket in the window: attempts, failures (status not 2xx/3xx, or none), distinct users who
-- uploaded and who saw a failure, and the first and last failure.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT u.bucket_id,
       count(*)::bigint AS uploads,
       count(*) FILTER (WHERE u.failed)::bigint AS failed_uploads,
       count(DISTINCT u.user_id)::bigint AS users,
       count(DISTINCT u.user_id) FILTER (WHERE u.failed)::bigint AS users_failed,
       min(u.at) FILTER (WHERE u.failed) AS first_failure_at,
       max(u.at) FILTER (WHERE u.failed) AS last_failure_at
FROM (
  SELECT e."timestamp" AS at, e.user_id,
         CASE WHEN s.seg1 = 'upload' THEN split_part(e.path, '/', 7) ELSE s.seg1 END AS bucket_id,
         NOT coalesce(e.status_code BETWEEN 200 AND 399, false) AS failed
  FROM logs.edge_logs e
  CROSS JOIN LATERAL (SELECT split_part(e.path, '/', 5) AS seg1) s
  WHERE e."timestamp" >= :since
    AND e."timestamp" < :until
    AND e.path LIKE '/storage/v1/object/%'
    AND e.method IN ('POST', 'PUT')
    AND (s.seg1 NOT IN ('sign', 'public', 'authenticated', 'upload', 'list', 'info', 'move', 'copy')
         OR (s.seg1 = 'upload' AND e.method = 'PUT'))
) u
GROUP BY u.bucket_id
ORDER BY failed_uploads DESC, u.bucket_id
