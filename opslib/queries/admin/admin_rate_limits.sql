-- name: admin_rate_limits
-- section: §3-E 트리아지 4 (rate_limits 테이블에서 관리자 rate-limit 여부)
-- rate_limits windows of admin users (keys '<prefix>:user:<uuid>' of a profile with role 'admin',
-- or of a user who acted as an admin since `lookback`) that started in the window
-- (rate_limits_window_idx). The limit is not stored in the table: the page compares hits with
-- the limits in checks/admin.yaml.
-- param: lookback timestamptz how far back an admin act counts (UTC)
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH admins AS (
  SELECT p.id FROM public.user_profiles p WHERE p.role = 'admin'
  UNION
  SELECT a.admin_id FROM public.admin_audit_log a
  WHERE a.created_at >= :lookback AND a.created_at < :until AND a.admin_id IS NOT NULL
)
SELECT r.key, regexp_replace(r.key, '[:]user[:].*$', '') AS prefix, ad.id AS user_id,
       r.window_start, r.window_seconds, r.hits, r.updated_at
FROM public.rate_limits r
JOIN admins ad ON substring(r.key FROM '[^:]*$') = ad.id::text AND r.key ~ '[:]user[:]'
WHERE r.window_start >= :since - interval '1 hour' AND r.window_start < :until
  AND r.window_start + r.window_seconds * interval '1 second' > :since
ORDER BY r.window_start, r.key
