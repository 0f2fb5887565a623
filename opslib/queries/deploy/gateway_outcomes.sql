-- name: gateway_outcomes
-- section: §2 배포 후 관찰 (API gateway: REST, auth, storage, realtime: 배포 전 vs 후)
-- Every API request through the gateway (logs.edge_logs) by area and period (before / after the
-- deploy time): requests, 5xx, 401/403, requests without a status (the client went away).
-- Window-bound (edge_logs_ts_idx): the range is the two observation windows.
-- param: since timestamptz start of the before window (inclusive, UTC)
-- param: deploy_at timestamptz the deploy time: before is [since, deploy_at), after is [deploy_at, until)
-- param: until timestamptz end of the after window (exclusive, UTC)
SELECT CASE WHEN e.path LIKE '/rest/v1/%' OR e.path = '/rest/v1' THEN 'rest'
            WHEN e.path LIKE '/auth/v1/%' THEN 'auth'
            WHEN e.path LIKE '/storage/v1/%' THEN 'storage'
            WHEN e.path LIKE '/realtime/v1/%' THEN 'realtime'
            WHEN e.path LIKE '/functions/v1/%' THEN 'functions'
            ELSE 'other' END AS area,
       CASE WHEN e."timestamp" < :deploy_at THEN 'before' ELSE 'after' END AS period,
       count(*)::bigint AS requests,
       count(*) FILTER (WHERE e.status_code >= 500)::bigint AS status_5xx,
       count(*) FILTER (WHERE e.status_code IN (401, 403))::bigint AS auth_errors,
       count(*) FILTER (WHERE e.status_code IS NULL)::bigint AS no_status
FROM logs.edge_logs e
WHERE e."timestamp" >= :since
  AND e."timestamp" < :until
GROUP BY 1, 2
ORDER BY 1, 2 DESC
