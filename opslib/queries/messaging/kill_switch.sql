-- name: kill_switch
-- section: §3-C 트리아지 1 (messages.scheduled_dispatch 킬스위치), 최소 완화
-- The scheduled-dispatch kill switch and its last change in admin_audit_log. No row in
-- feature_flags reads as off: is_feature_enabled() answers false for an unknown key, and
-- claim_due_messages() then claims nothing. One row (flag_exists false when it is missing).
-- param: flag text the feature flag key (messages.scheduled_dispatch)
SELECT :flag AS flag,
       f.key IS NOT NULL AS flag_exists,
       coalesce(f.enabled, false) AS enabled,
       f.is_kill_switch, f.updated_at, f.updated_by,
       a.created_at AS last_change_at, a.action AS last_change_action, a.admin_id AS last_change_by,
       a.reason AS last_change_reason
FROM (SELECT 1) one
LEFT JOIN public.feature_flags f ON f.key = :flag
LEFT JOIN LATERAL (
  SELECT l.created_at, l.action, l.admin_id, l.reason
  FROM public.admin_audit_log l
  WHERE l.target_type = 'feature_flag' AND l.target_id = :flag
  ORDER BY l.created_at DESC
  LIMIT 1
) a ON true
