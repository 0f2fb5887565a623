-- name: audit_insert
-- section: §3-A 최소 완화 (audit)
-- One admin_audit_log row, written in the same transaction as the change it records.
-- param: admin_id text  operator's auth.users id, or empty
-- param: action text  e.g. banner.publish
-- param: target_type text  e.g. banner
-- param: target_id text  id of the target row
-- param: before text  JSON of the row before (or null)
-- param: after text  JSON of the row after
-- param: reason text  why, with the WI id
INSERT INTO public.admin_audit_log (admin_id, action, target_type, target_id, before, after, reason)
VALUES (CAST(NULLIF(:admin_id, '') AS uuid), :action, :target_type, :target_id,
        CAST(:before AS jsonb), CAST(:after AS jsonb), :reason)
RETURNING id
