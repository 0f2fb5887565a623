-- name: flag_for_update
-- section: §3-A 최소 완화 (kill switch)
-- The feature flag row, locked for the rest of the action's transaction.
-- param: key text  feature flag key, e.g. payments.purchase
SELECT key, enabled, is_kill_switch, metadata, updated_by, updated_at
FROM public.feature_flags
WHERE key = :key
FOR UPDATE
