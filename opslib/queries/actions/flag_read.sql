-- name: flag_read
-- section: §3-A 최소 완화 (kill switch)
-- The feature flag row as it is now (dry-run: nothing is locked or written).
-- param: key text  feature flag key, e.g. payments.purchase
SELECT key, enabled, is_kill_switch, metadata, updated_by, updated_at
FROM public.feature_flags
WHERE key = :key
