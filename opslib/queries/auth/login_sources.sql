-- name: login_sources
-- section: §3-B 트리아지 2 (Recent sign-ins: credential stuffing)
-- Login attempts (/token password, id_token, pkce; /callback; /verify) per source IP, for the IPs
-- with at least one failed attempt: attempts, credential failures (invalid_credentials /
-- invalid_grant), successes, how many distinct accounts they touched, first and last attempt.
-- The IP comes from the drained metadata (remote_addr / ip / x_forwarded_for); attempts without
-- one are grouped under ip NULL. The page masks IPs before showing them.
-- Reads the auth_logs_ts_idx range of the window.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH r AS (
  SELECT a."timestamp" AS ts,
         split_part(CASE WHEN a.path LIKE '/auth/v1/%' THEN substr(a.path, 9) ELSE a.path END, '?', 1) AS path,
         a.grant_type, a.status, a.error_code, a.user_id, a.metadata
  FROM logs.auth_logs a
  WHERE a."timestamp" >= :since AND a."timestamp" < :until
), c AS (
  SELECT r.ts, r.user_id,
         coalesce(r.status, 0) BETWEEN 200 AND 399 AND r.error_code IS NULL AS success,
         r.error_code IN ('invalid_credentials', 'invalid_grant') AS credential,
         coalesce(nullif(r.metadata->>'remote_addr', ''), nullif(r.metadata->>'ip', ''),
                  nullif(trim(split_part(r.metadata->>'x_forwarded_for', ',', 1)), '')) AS ip
  FROM r
  WHERE (r.path = '/token' AND r.grant_type IN ('password', 'id_token', 'pkce'))
     OR r.path IN ('/callback', '/verify')
)
SELECT c.ip,
       count(*)::bigint AS attempts,
       count(*) FILTER (WHERE c.credential)::bigint AS credential_failures,
       count(*) FILTER (WHERE NOT c.success)::bigint AS failures,
       count(*) FILTER (WHERE c.success)::bigint AS successes,
       count(DISTINCT c.user_id)::bigint AS accounts,
       min(c.ts) AS first_at,
       max(c.ts) AS last_at
FROM c
GROUP BY c.ip
HAVING count(*) FILTER (WHERE NOT c.success) > 0
ORDER BY credential_failures DESC, failures DESC
LIMIT 500
