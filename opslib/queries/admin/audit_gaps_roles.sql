-- name: audit_gaps_roles
-- section: §3-E 감지 (감사로그 누락: 권한 변경)
-- Admin role changes with no admin_audit_log row about the user: an admin whose profile changed
-- in the window with no role/user audit row within 10 minutes of the change (a grant nobody
-- recorded), and a user who acted as an admin since `lookback` but is no longer an active admin,
-- with no role/user audit row about them after their last admin act (a removal nobody recorded).
-- param: lookback timestamptz how far back an admin act counts (UTC)
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH acted AS (
  SELECT a.admin_id AS user_id, max(a.created_at) AS last_admin_act_at
  FROM public.admin_audit_log a
  WHERE a.created_at >= :lookback AND a.created_at < :until AND a.admin_id IS NOT NULL
  GROUP BY a.admin_id
)
SELECT p.id AS user_id, p.role, p.status, p.updated_at AS changed_at,
       'admin now, change not audited' AS gap
FROM public.user_profiles p
WHERE p.role = 'admin'
  AND p.updated_at >= :since AND p.updated_at < :until
  AND NOT EXISTS (
    SELECT 1 FROM public.admin_audit_log a
    WHERE a.target_type IN ('user', 'user_profile', 'user_profiles', 'profile')
      AND a.target_id = p.id::text
      AND a.created_at BETWEEN p.updated_at - interval '10 minutes' AND p.updated_at + interval '10 minutes')
UNION ALL
SELECT p.id, p.role, p.status, p.updated_at,
       'no longer an active admin, removal not audited'
FROM acted x
JOIN public.user_profiles p ON p.id = x.user_id
WHERE NOT (p.role = 'admin' AND p.status = 'active')
  AND NOT EXISTS (
    SELECT 1 FROM public.admin_audit_log a
    WHERE a.target_type IN ('user', 'user_profile', 'user_profiles', 'profile')
      AND a.target_id = p.id::text
      AND a.created_at >= x.last_admin_act_at AND a.created_at < :until)
ORDER BY 4
