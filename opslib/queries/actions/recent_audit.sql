-- name: recent_audit
-- section: §3-F 복구 (idempotency of a manual trigger)
-- The latest audit row of this action on this target within the guard interval.
-- param: action text the audit action, e.g. cron.run_once
-- param: target_id text the target's id
-- param: within interval how far back counts as the same request
SELECT a.id, a.created_at, a.reason
FROM public.admin_audit_log a
WHERE a.action = :action AND a.target_type = 'cron_job' AND a.target_id = :target_id
  AND a.created_at > now() - :within
ORDER BY a.created_at DESC
LIMIT 1
