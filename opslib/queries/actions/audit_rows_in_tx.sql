-- name: audit_rows_in_tx
-- section: §3-A 최소 완화 (audit)
-- admin_audit_log rows written by the current transaction for one target (now() is the transaction start).
-- param: target_type text  e.g. feature_flag, banner
-- param: target_id text  e.g. payments.purchase
SELECT id, action, target_type, target_id, before, after, reason
FROM public.admin_audit_log
WHERE target_type = :target_type AND target_id = :target_id AND created_at = now()
