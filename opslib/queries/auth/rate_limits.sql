-- name: rate_limits
-- section: §3-B 트리아지 4 (Rate limit 확인)
-- GoTrue answers per endpoint (path, query string and /auth/v1 prefix dropped) in the window: requests,
-- those rate-limited (HTTP 429 or an over_*_rate_limit error code), distinct users seen and distinct
-- users limited, first and last limit; the row with path NULL is every endpoint together (distinct
-- users are not additive). Reads the auth_logs_ts_idx range of the window.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH r AS (
  SELECT a."timestamp" AS ts, a.user_id,
         split_part(CASE WHEN a.path LIKE '/auth/v1/%' THEN substr(a.path, 9) ELSE a.path END, '?', 1) AS path,
         (a.status = 429 OR coalesce(a.error_code, '') LIKE 'over\_%rate\_limit') AS limited
  FROM logs.auth_logs a
  WHERE a."timestamp" >= :since AND a."timestamp" < :until
)
SELECT r.path,
       count(*)::bigint AS requests,
       count(*) FILTER (WHERE r.limited)::bigint AS limited,
       count(DISTINCT r.user_id)::bigint AS users,
       count(DISTINCT r.user_id) FILTER (WHERE r.limited)::bigint AS users_limited,
       min(r.ts) FILTER (WHERE r.limited) AS first_limited_at,
       max(r.ts) FILTER (WHERE r.limited) AS last_limited_at
FROM r
GROUP BY GROUPING SETS ((r.path), ())
ORDER BY r.path NULLS FIRST
