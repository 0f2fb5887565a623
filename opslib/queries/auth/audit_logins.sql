-- name: audit_logins
-- section: §3-B 트리아지 2 (Recent sign-ins: successes, compared with auth_logs)
-- Successful logins as GoTrue's audit trail records them (auth.audit_log_entries, action 'login'),
-- per bucket and provider. Successes only: a failed login writes no audit row, so this is never the
-- failure source; the page compares it with the successes in logs.auth_logs to tell a partial log drain.
-- The contract has no index on created_at (only instance_id): this reads the table whole unless the
-- recommended index audit_log_entries_created_idx exists (opslib/sql/recommended_indexes.sql).
-- param: since timestamptz start of the window (inclusive, UTC); also the bucket origin
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: bucket interval bucket width
SELECT date_bin(:bucket, e.created_at, :since) AS bucket_start,
       coalesce(e.payload->'traits'->>'provider', 'unknown') AS provider,
       count(*)::bigint AS logins
FROM auth.audit_log_entries e
WHERE e.created_at >= :since AND e.created_at < :until
  AND e.payload->>'action' = 'login'
GROUP BY 1, 2
ORDER BY 1, 2
