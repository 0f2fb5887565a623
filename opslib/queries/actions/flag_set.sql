-- name: flag_set
-- section: §3-A 최소 완화 (kill switch)
-- Flip a flag; the contract's feature_flags_audit trigger copies before/after to admin_audit_log.
-- The why (reason, WI, operator) travels in metadata so that it lands in the audit row too.
-- param: key text  feature flag key
-- param: enabled bool  the new state (false = kill switch pulled)
-- param: note text  JSON object merged into metadata under "opsbook"
UPDATE public.feature_flags
SET enabled = :enabled,
    metadata = metadata || jsonb_build_object('opsbook', CAST(:note AS jsonb))
WHERE key = :key
RETURNING key, enabled, is_kill_switch, metadata, updated_at
