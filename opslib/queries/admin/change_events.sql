-- name: change_events
-- section: §3-E 복구 (문제 RPC/정책 롤백 → migrations.md)
-- What changed around the errors: deploys and migrations the CI or the console recorded in
-- ops_audit_log (source 'ci' or 'admin_console', or an action naming a deploy, a migration, a
-- policy or a function) in the range (ops_audit_log_occurred_idx).
-- param: since timestamptz start of the range (inclusive, UTC)
-- param: until timestamptz end of the range (exclusive, UTC)
SELECT o.occurred_at, o.source, o.actor, o.action, o.target_type, o.target_id, o.severity, o.details
FROM public.ops_audit_log o
WHERE o.occurred_at >= :since AND o.occurred_at < :until
  AND (o.source IN ('ci', 'admin_console')
       OR o.action ~ '(deploy|migration|migrate|policy|rls|function|rpc|secret)')
ORDER BY o.occurred_at
