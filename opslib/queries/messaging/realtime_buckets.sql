-- name: realtime_buckets
-- section: §3-C 감지 (Realtime 미수신), 트리아지 1 (Realtime 연결), 트리아지 2 (연결 수/에러율), §4-E Realtime 지연
-- Realtime server events per bucket from the drained realtime_logs source: channel joins, channel
-- and connection errors (and any other event logged at level error), events carrying a delivery
-- latency and its percentiles (ms). Index realtime_logs_ts_idx.
-- param: since timestamptz start (inclusive, UTC); also the bucket origin
-- param: until timestamptz end (exclusive, UTC)
-- param: bucket interval bucket width
SELECT date_bin(:bucket, r."timestamp", :since) AS bucket_start,
       count(*)::bigint AS events,
       count(*) FILTER (WHERE r.event_type = 'channel_join')::bigint AS joins,
       count(*) FILTER (WHERE r.event_type = 'channel_error')::bigint AS channel_errors,
       count(*) FILTER (WHERE r.event_type = 'connection_error')::bigint AS connection_errors,
       count(*) FILTER (WHERE lower(r.level) = 'error'
                          AND coalesce(r.event_type, '') NOT IN ('channel_error', 'connection_error'))::bigint AS other_errors,
       count(r.latency_ms)::bigint AS latency_samples,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.latency_ms)::float8 AS latency_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY r.latency_ms)::float8 AS latency_p95_ms,
       max(r.latency_ms)::float8 AS latency_max_ms
FROM logs.realtime_logs r
WHERE r."timestamp" >= :since AND r."timestamp" < :until
GROUP BY bucket_start
ORDER BY bucket_start
