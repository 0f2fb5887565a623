-- name: edge_cold_starts
-- section: §4-E 인프라 (Edge Function 콜드 스타트)
-- Edge Function cold starts in the window (logs.function_edge_logs, boot_time_ms > 0 on a cold start,
-- NULL on a warm one): per function and in all (the row with is_total), with the P95 and the longest
-- boot time and how many boots took longer than slow_ms. Reads the function_edge_logs_ts_idx range.
-- param: since timestamptz start of the window (inclusive, UTC)
-- param: until timestamptz end of the window (exclusive, UTC)
-- param: slow_ms numeric a boot longer than this (milliseconds) counts as slow
SELECT f.function_name,
       GROUPING(f.function_name) = 1 AS is_total,
       count(*) AS invocations,
       count(*) FILTER (WHERE f.boot_time_ms > 0) AS cold_starts,
       count(*) FILTER (WHERE f.boot_time_ms > :slow_ms) AS slow_cold_starts,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY f.boot_time_ms) FILTER (WHERE f.boot_time_ms > 0) AS boot_p95_ms,
       max(f.boot_time_ms) FILTER (WHERE f.boot_time_ms > 0) AS boot_max_ms
FROM logs.function_edge_logs f
WHERE f."timestamp" >= :since AND f."timestamp" < :until
GROUP BY GROUPING SETS ((f.function_name), ())
ORDER BY is_total DESC, boot_p95_ms DESC NULLS LAST, f.function_name
