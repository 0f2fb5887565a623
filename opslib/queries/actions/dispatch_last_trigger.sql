-- name: dispatch_last_trigger
-- section: §3-C 복구 (scheduled-dispatcher 수동 트리거: 중복 방지)
-- The latest manual trigger of scheduled-dispatcher recorded in admin_audit_log, and its age in
-- seconds (admin_audit_log_target_idx).
SELECT l.created_at, extract(epoch FROM now() - l.created_at)::float8 AS age_s, l.after
FROM public.admin_audit_log l
WHERE l.target_type = 'edge_function' AND l.target_id = 'scheduled-dispatcher' AND l.action = 'dispatcher.trigger'
ORDER BY l.created_at DESC
LIMIT 1
