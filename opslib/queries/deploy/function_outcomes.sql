-- name: function_outcomes
-- section: §2 배포 후 관찰 (Edge Function 5xx/서명 실패/권한 오류, 콜드 스타트: 배포 전 vs 후)
-- Per Edge Function, deployment version and period (before / after the deploy time): invocations,
-- 5xx, answers without a status, 401/403, cold starts (boot_time_ms > 0) and their boot times.
-- Window-bound (function_edge_logs_ts_idx): the range is the two observation windows.
-- param: since timestamptz start of the before window (inclusive, UTC)
-- param: deploy_at timestamptz the deploy time: before is [since, deploy_at), after is [deploy_at, until)
-- param: until timestamptz end of the after window (exclusive, UTC)
SELECT f.function_name,
       coalesce(f.deployment_version, nullif(f.metadata->>'version', '')) AS version,
       CASE WHEN f."timestamp" < :deploy_at THEN 'before' ELSE 'after' END AS period,
       count(*)::bigint AS invocations,
       count(*) FILTER (WHERE f.status_code >= 500)::bigint AS status_5xx,
       count(*) FILTER (WHERE f.status_code IS NULL)::bigint AS no_status,
       count(*) FILTER (WHERE f.status_code IN (401, 403))::bigint AS auth_errors,
       count(*) FILTER (WHERE f.boot_time_ms > 0)::bigint AS cold_starts,
       coalesce(array_agg(f.boot_time_ms ORDER BY f.boot_time_ms) FILTER (WHERE f.boot_time_ms > 0), '{}')
         AS boot_times_ms,
       min(f."timestamp") AS first_at,
       max(f."timestamp") AS last_at
FROM logs.function_edge_logs f
WHERE f."timestamp" >= :since
  AND f."timestamp" < :until
GROUP BY 1, 2, 3
ORDER BY 1, 3 DESC, 2
