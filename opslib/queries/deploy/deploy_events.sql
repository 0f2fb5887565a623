-- name: deploy_events
-- section: §2 배포 후 관찰 (CI가 남긴 배포 기록)
-- What CI recorded as deployed (ops_audit_log action 'function.deploy' and other '*.deploy'
-- actions) in the range: the corroboration of the versions seen in the function logs.
-- Window-bound (ops_audit_log_occurred_idx).
-- param: since timestamptz start of the range (inclusive, UTC)
-- param: until timestamptz end of the range (exclusive, UTC)
SELECT a.occurred_at,
       a.source,
       a.action,
       a.target_type,
       a.target_id,
       a.details->>'version' AS version,
       a.details->>'previous' AS previous
FROM public.ops_audit_log a
WHERE a.occurred_at >= :since
  AND a.occurred_at < :until
  AND a.action LIKE '%deploy%'
ORDER BY a.occurred_at
