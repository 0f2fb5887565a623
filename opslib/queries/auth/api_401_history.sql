-- name: api_401_history
-- section: §3-B 감지 (Supabase Logs에서 401 급증)
-- 401 answers across the whole API (logs.edge_logs: REST, auth, storage, realtime) in the window and
-- in the same clock window on each of the previous days (days_back 0 = the window itself), with
-- all requests of each window (a day with no requests at all is a day the drain did not cover,
-- not a day without 401s). Reads edge_logs_errors_idx (status_code >= 400) and edge_logs_ts_idx.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: days_back int how many previous days to compare with
SELECT d.days_back,
       :since - d.days_back * interval '1 day' AS window_start,
       (SELECT count(*) FROM logs.edge_logs e
        WHERE e.status_code = 401
          AND e."timestamp" >= :since - d.days_back * interval '1 day'
          AND e."timestamp" < :until - d.days_back * interval '1 day')::bigint AS unauthorized,
       (SELECT count(*) FROM logs.edge_logs e
        WHERE e."timestamp" >= :since - d.days_back * interval '1 day'
          AND e."timestamp" < :until - d.days_back * interval '1 day')::bigint AS requests
FROM generate_series(0, :days_back) AS d(days_back)
ORDER BY d.days_back
