-- name: role_changes
-- section: §3-E 트리아지 1 (admin_audit_log role.grant / role.revoke)
-- Role and account changes recorded in admin_audit_log during the window: role.grant,
-- role.revoke and user.* actions (suspend, unsuspend, delete) (admin_audit_log_created_idx).
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
SELECT a.created_at, a.action, a.admin_id, a.target_type, a.target_id AS user_id,
       a.before ->> 'role' AS role_before, a.after ->> 'role' AS role_after,
       a.before ->> 'status' AS status_before, a.after ->> 'status' AS status_after, a.reason
FROM public.admin_audit_log a
WHERE a.created_at >= :since AND a.created_at < :until
  AND (a.action LIKE 'role.%' OR a.action LIKE 'user.%')
ORDER BY a.created_at
