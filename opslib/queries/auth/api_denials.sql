-- name: api_denials
-- section: §3-B 트리아지 1 (증상 3: 권한(RLS)로 기능 접근 불가)
-- REST requests (logs.edge_logs, /rest/v1/*) in the window per path (query string dropped): all
-- requests and those from callers whose session is known good (a successful login or refresh in
-- logs.auth_logs in the day before the window end), and how many of each were answered 401 or 403,
-- with the distinct users denied. A 403 for a caller whose login succeeded is a policy (RLS/grant)
-- denial, not an auth outage (PostgREST answers 403 to an authenticated role a policy or grant
-- refuses, 401 to a token it refuses: expired or bad, which is the session symptom).
-- Reads edge_logs_path_ts_idx (path prefix + time) and the auth_logs_ts_idx range of a day.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH rest AS (
  SELECT e."timestamp" AS ts, split_part(e.path, '?', 1) AS path, e.status_code, e.user_id
  FROM logs.edge_logs e
  WHERE e.path LIKE '/rest/v1/%' AND e."timestamp" >= :since AND e."timestamp" < :until
), signed_in AS (
  SELECT DISTINCT a.user_id
  FROM logs.auth_logs a
  WHERE a."timestamp" >= :until - interval '1 day' AND a."timestamp" < :until
    AND a.user_id IS NOT NULL AND a.error_code IS NULL AND coalesce(a.status, 0) BETWEEN 200 AND 399
    AND split_part(CASE WHEN a.path LIKE '/auth/v1/%' THEN substr(a.path, 9) ELSE a.path END, '?', 1)
        IN ('/token', '/callback', '/verify')
)
SELECT rest.path,
       count(*)::bigint AS requests,
       count(*) FILTER (WHERE rest.status_code IN (401, 403))::bigint AS denied,
       count(*) FILTER (WHERE rest.status_code = 401)::bigint AS denied_401,
       count(*) FILTER (WHERE rest.status_code = 403)::bigint AS denied_403,
       count(*) FILTER (WHERE s.user_id IS NOT NULL)::bigint AS signed_in_requests,
       count(*) FILTER (WHERE s.user_id IS NOT NULL AND rest.status_code = 401)::bigint AS signed_in_401,
       count(*) FILTER (WHERE s.user_id IS NOT NULL AND rest.status_code = 403)::bigint AS signed_in_403,
       count(DISTINCT rest.user_id) FILTER (WHERE rest.status_code IN (401, 403))::bigint AS users_denied,
       count(DISTINCT s.user_id) FILTER (WHERE rest.status_code IN (401, 403))::bigint AS signed_in_users_denied,
       min(rest.ts) FILTER (WHERE rest.status_code IN (401, 403)) AS first_denied_at,
       max(rest.ts) FILTER (WHERE rest.status_code IN (401, 403)) AS last_denied_at
FROM rest
LEFT JOIN signed_in s ON s.user_id = rest.user_id
GROUP BY rest.path
ORDER BY denied DESC, requests DESC
