-- name: guarded_actions
-- section: §1 타임라인 (완화: each guarded action executed for the work item)
-- admin_audit_log rows carrying the work item, in the range (admin_audit_log_created_idx). An opsbook
-- action writes the WI into the row's reason ("<why> · WI <id> · by <name>", ActionRequest.audit_reason);
-- a change the contract's trigger copies (feature flags) carries it in the changed row's metadata
-- (after.metadata.opsbook.wi_id), a bucket change in after.opsbook.wi_id. `changed` lists the columns the
-- row changed (before → after), bookkeeping columns left out.
-- param: since timestamptz start of the range (inclusive, UTC)
-- param: until timestamptz end of the range (exclusive, UTC)
-- param: wi_id text the work item, e.g. WI-042
SELECT a.id, a.created_at, a.action, a.target_type, a.target_id, a.admin_id, a.reason,
       (SELECT string_agg(k || ': ' || coalesce(a.before ->> k, '-') || ' → ' || coalesce(a.after ->> k, '-'), ', '
                          ORDER BY k)
          FROM jsonb_object_keys(coalesce(a.after, '{}'::jsonb)) AS k
         WHERE k NOT IN ('updated_at', 'updated_by', 'metadata', 'opsbook', 'created_at')
           AND (a.before -> k) IS DISTINCT FROM (a.after -> k)) AS changed
FROM public.admin_audit_log a
WHERE a.created_at >= :since AND a.created_at < :until
  AND (strpos(' · ' || coalesce(a.reason, '') || ' · ', ' · WI ' || :wi_id || ' · ') > 0
       OR a.after -> 'metadata' -> 'opsbook' ->> 'wi_id' = :wi_id
       OR a.after -> 'opsbook' ->> 'wi_id' = :wi_id)
ORDER BY a.created_at, a.id
