-- name: preflights
-- section: §3-D 복구 (CORS 설정 확인)
-- CORS preflights (OPTIONS) on Storage API paths in the window, by the request's Origin header (from
-- the drained metadata; '' when the drain did not keep it), status and client platform: a browser
-- whose preflight fails never sends the upload, so web uploads vanish instead of failing.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT coalesce(e.metadata -> 'request' -> 'headers' ->> 'origin', '') AS origin,
       e.status_code,
       coalesce(e.client_platform, '') AS platform,
       count(*)::bigint AS requests,
       min(e."timestamp") AS first_at,
       max(e."timestamp") AS last_at
FROM logs.edge_logs e
WHERE e."timestamp" >= :since
  AND e."timestamp" < :until
  AND e.method = 'OPTIONS'
  AND e.path LIKE '/storage/v1/object/%'
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
