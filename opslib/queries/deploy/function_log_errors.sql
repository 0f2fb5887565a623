-- name: function_log_errors
-- section: §2 배포 후 관찰 (Supabase Logs: Edge Function 에러 로그, 배포 전 vs 후)
-- Console lines at level 'error' per function and period, with the first line's text (the caller
-- redacts and masks it). Reads the partial index function_logs_problems_idx.
-- param: since timestamptz start of the before window (inclusive, UTC)
-- param: deploy_at timestamptz the deploy time: before is [since, deploy_at), after is [deploy_at, until)
-- param: until timestamptz end of the after window (exclusive, UTC)
SELECT l.function_name,
       CASE WHEN l."timestamp" < :deploy_at THEN 'before' ELSE 'after' END AS period,
       count(*)::bigint AS error_lines,
       min(l."timestamp") AS first_at,
       (array_agg(left(l.event_message, 300) ORDER BY l."timestamp"))[1] AS first_message
FROM logs.function_logs l
WHERE l.level = 'error'
  AND l."timestamp" >= :since
  AND l."timestamp" < :until
GROUP BY 1, 2
ORDER BY 1, 2 DESC
