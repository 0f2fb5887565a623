-- name: requests
-- section: §3-B 감지 / 트리아지 1·2·4·5 / 종료 조건, §4-E 인증 (로그인 실패율)
-- GoTrue requests (logs.auth_logs: the only place failed logins appear; audit_log_entries holds
-- successes only) per bucket (aligned on the since bound), method, path, provider, client platform,
-- HTTP status and error code. method: the /token grant (password, id_token, pkce, refresh_token),
-- social_callback for /callback, otp for /verify, other for the rest. Paths are read with or
-- without the /auth/v1 prefix and without a query string. The source IP, client platform and
-- duration come from the drained metadata (remote_addr / ip / x_forwarded_for; client_platform
-- or user_agent; duration in ns or duration_ms) and are NULL or 'unknown' when the drain lacks them.
-- excluded marks requests from the IPs and users the page attributed to an attack or to one user
-- hammering (credential stuffing is not a login outage): the caller passes them.
-- Reads the auth_logs_ts_idx range of the window.
-- param: since timestamptz start of the window (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: bucket interval bucket width (5 minutes on the page)
-- param: slow_ms numeric an answer slower than this (milliseconds) is slow
-- param: attack_ips text[] source IPs attributed to credential stuffing (raw, never shown)
-- param: noisy_users text[] user ids attributed to one user hammering
WITH r AS (
  SELECT a."timestamp" AS ts,
         split_part(CASE WHEN a.path LIKE '/auth/v1/%' THEN substr(a.path, 9) ELSE a.path END, '?', 1) AS path,
         a.grant_type, a.status, a.error_code, a.provider, a.user_id, a.metadata
  FROM logs.auth_logs a
  WHERE a."timestamp" >= :since AND a."timestamp" < :until
), c AS (
  SELECT r.ts, r.path, r.status, r.error_code, r.user_id,
         CASE WHEN r.path = '/token' AND r.grant_type IN ('password', 'id_token', 'pkce') THEN r.grant_type
              WHEN r.path = '/token' AND r.grant_type = 'refresh_token' THEN 'refresh_token'
              WHEN r.path = '/callback' THEN 'social_callback'
              WHEN r.path = '/verify' THEN 'otp'
              ELSE 'other' END AS method,
         coalesce(nullif(r.provider, ''),
                  CASE WHEN r.path = '/token' AND r.grant_type = 'password' THEN 'email'
                       WHEN r.path = '/verify' THEN 'email' END) AS provider,
         coalesce(nullif(lower(r.metadata->>'client_platform'), ''),
                  CASE WHEN r.metadata->>'user_agent' ~* '(iphone|ipad|ios)' THEN 'ios'
                       WHEN r.metadata->>'user_agent' ~* 'android' THEN 'android'
                       WHEN r.metadata->>'user_agent' ~* 'mozilla' THEN 'web' END,
                  'unknown') AS platform,
         coalesce(nullif(r.metadata->>'remote_addr', ''), nullif(r.metadata->>'ip', ''),
                  nullif(trim(split_part(r.metadata->>'x_forwarded_for', ',', 1)), '')) AS ip,
         CASE WHEN r.metadata->>'duration' ~ '^[0-9]+(\.[0-9]+)?$' THEN (r.metadata->>'duration')::numeric / 1000000
              WHEN r.metadata->>'duration_ms' ~ '^[0-9]+(\.[0-9]+)?$' THEN (r.metadata->>'duration_ms')::numeric
         END AS duration_ms
  FROM r
)
SELECT date_bin(:bucket, c.ts, :since) AS bucket_start,
       c.method, c.path, c.provider, c.platform, c.status, c.error_code,
       (coalesce(c.ip = ANY(:attack_ips), false) OR coalesce(c.user_id::text = ANY(:noisy_users), false)) AS excluded,
       count(*)::bigint AS requests,
       count(*) FILTER (WHERE c.duration_ms > :slow_ms)::bigint AS slow,
       count(c.duration_ms)::bigint AS timed,
       count(DISTINCT c.user_id)::bigint AS users,
       min(c.ts) AS first_at,
       max(c.ts) AS last_at
FROM c
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ORDER BY 1, 2, 3, 4, 5, 6, 7
