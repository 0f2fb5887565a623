-- name: realtime_latencies
-- section: §3-C 트리아지 1 (Realtime 연결), §4-E Realtime 지연 (> 2 s 경고, > 5 s P0)
-- Realtime delivery latency percentiles and error counts over the whole range (one row), so the
-- window's P95 is a true percentile, not a mean of bucket percentiles. Index realtime_logs_ts_idx.
-- param: since timestamptz start (inclusive, UTC)
-- param: until timestamptz end (exclusive, UTC)
SELECT count(*)::bigint AS events,
       count(*) FILTER (WHERE r.event_type = 'channel_join')::bigint AS joins,
       count(*) FILTER (WHERE r.event_type IN ('channel_error', 'connection_error')
                           OR lower(r.level) = 'error')::bigint AS errors,
       count(r.latency_ms)::bigint AS latency_samples,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.latency_ms)::float8 AS latency_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY r.latency_ms)::float8 AS latency_p95_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY r.latency_ms)::float8 AS latency_p99_ms,
       max(r.latency_ms)::float8 AS latency_max_ms
FROM logs.realtime_logs r
WHERE r."timestamp" >= :since AND r."timestamp" < :until
