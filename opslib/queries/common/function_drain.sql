-- name: function_drain
-- section: §3-C 트리아지 1 (로그 드레인이 살아 있는가); any page that reads an absence in function_edge_logs
-- Is the function_edge_logs drain delivering for the range? Invocations of any function and the
-- latest one. An Edge Function missing from a live drain was not called; missing from an empty
-- drain says nothing. Index function_edge_logs_ts_idx.
-- param: since timestamptz start (inclusive, UTC)
-- param: until timestamptz end (exclusive, UTC)
SELECT count(*)::bigint AS invocations, max(f."timestamp") AS last_at,
       count(DISTINCT f.function_name)::bigint AS functions
FROM logs.function_edge_logs f
WHERE f."timestamp" >= :since AND f."timestamp" < :until
