-- name: former_admins
-- section: §3-E 트리아지 1 (권한 변경: 최근 관리자였지만 지금은 아닌 사용자)
-- Users who acted as an admin (admin_audit_log.admin_id) or were granted the role since
-- `lookback`, and who are not an active admin now: what role and status they have, when their
-- profile last changed, their last admin act, and the last role/user audit row about them
-- (admin_audit_log_created_idx, then admin_audit_log_target_idx per user).
-- param: lookback timestamptz how far back an admin act or grant counts (UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
WITH evidence AS (
  SELECT a.admin_id AS user_id, max(a.created_at) AS last_admin_act_at
  FROM public.admin_audit_log a
  WHERE a.created_at >= :lookback AND a.created_at < :until AND a.admin_id IS NOT NULL
  GROUP BY a.admin_id
  UNION ALL
  SELECT CAST(a.target_id AS uuid), NULL
  FROM public.admin_audit_log a
  WHERE a.created_at >= :lookback AND a.created_at < :until
    AND a.action = 'role.grant'
    AND length(a.target_id) = 36
    AND a.target_id ~ '^[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+-[0-9a-fA-F]+$'
), who AS (
  SELECT user_id, max(last_admin_act_at) AS last_admin_act_at FROM evidence GROUP BY user_id
)
SELECT w.user_id, p.role, p.status, p.updated_at, w.last_admin_act_at,
       r.action AS last_role_action, r.created_at AS last_role_action_at, r.reason AS last_role_reason
FROM who w
JOIN public.user_profiles p ON p.id = w.user_id
LEFT JOIN LATERAL (
  SELECT a.action, a.created_at, a.reason
  FROM public.admin_audit_log a
  WHERE a.target_type IN ('user', 'user_profile', 'user_profiles', 'profile')
    AND a.target_id = w.user_id::text
    AND a.created_at < :until
  ORDER BY a.created_at DESC
  LIMIT 1
) r ON true
WHERE NOT (p.role = 'admin' AND p.status = 'active')
ORDER BY p.updated_at DESC
