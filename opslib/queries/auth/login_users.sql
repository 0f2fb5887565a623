-- name: login_users
-- section: §3-B 트리아지 2 (a single user hammering) / 영향
-- Per known user (user_id NOT NULL) with at least one failed login attempt in the window:
-- attempts, failures, credential failures, successes, the failures not attributed to an attack
-- or to hammering (own_failures), first and last failure, the user's usual platform and provider.
-- Reads the auth_logs_ts_idx range of the window.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: attack_ips text[] source IPs attributed to credential stuffing (raw, never shown)
WITH r AS (
  SELECT a."timestamp" AS ts,
         split_part(CASE WHEN a.path LIKE '/auth/v1/%' THEN substr(a.path, 9) ELSE a.path END, '?', 1) AS path,
         a.grant_type, a.status, a.error_code, a.provider, a.user_id, a.metadata
  FROM logs.auth_logs a
  WHERE a."timestamp" >= :since AND a."timestamp" < :until AND a.user_id IS NOT NULL
), c AS (
  SELECT r.ts, r.user_id,
         coalesce(r.status, 0) BETWEEN 200 AND 399 AND r.error_code IS NULL AS success,
         r.error_code IN ('invalid_credentials', 'invalid_grant') AS credential,
         coalesce(nullif(r.provider, ''), CASE WHEN r.grant_type = 'password' OR r.path = '/verify' THEN 'email' END,
                  'unknown') AS provider,
         coalesce(nullif(lower(r.metadata->>'client_platform'), ''),
                  CASE WHEN r.metadata->>'user_agent' ~* '(iphone|ipad|ios)' THEN 'ios'
                       WHEN r.metadata->>'user_agent' ~* 'android' THEN 'android'
                       WHEN r.metadata->>'user_agent' ~* 'mozilla' THEN 'web' END,
                  'unknown') AS platform,
         coalesce(coalesce(nullif(r.metadata->>'remote_addr', ''), nullif(r.metadata->>'ip', ''),
                           nullif(trim(split_part(r.metadata->>'x_forwarded_for', ',', 1)), '')) = ANY(:attack_ips),
                  false) AS attack
  FROM r
  WHERE (r.path = '/token' AND r.grant_type IN ('password', 'id_token', 'pkce'))
     OR r.path IN ('/callback', '/verify')
)
SELECT c.user_id,
       count(*)::bigint AS attempts,
       count(*) FILTER (WHERE NOT c.success)::bigint AS failures,
       count(*) FILTER (WHERE c.credential)::bigint AS credential_failures,
       count(*) FILTER (WHERE c.success)::bigint AS successes,
       count(*) FILTER (WHERE NOT c.success AND NOT c.attack)::bigint AS own_failures,
       min(c.ts) FILTER (WHERE NOT c.success) AS first_failure_at,
       max(c.ts) FILTER (WHERE NOT c.success) AS last_failure_at,
       max(c.ts) FILTER (WHERE c.success) AS last_success_at,
       mode() WITHIN GROUP (ORDER BY c.platform) AS platform,
       mode() WITHIN GROUP (ORDER BY c.provider) AS provider
FROM c
GROUP BY c.user_id
HAVING count(*) FILTER (WHERE NOT c.success) > 0
ORDER BY failures DESC
