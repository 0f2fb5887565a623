-- name: net_coverage
-- section: §3-F 감지 (pg_net retention)
-- The database's clock, pg_net's response TTL (the pg_net.ttl setting, '6 hours' when unset)
-- and the oldest response still held (an index end on _http_response_created_idx): a run
-- older than what is held can no longer be linked to its outcome.
SELECT now() AS db_now,
       coalesce(nullif(current_setting('pg_net.ttl', true), ''), '6 hours')::interval AS ttl,
       (SELECT min(r.created) FROM net._http_response r) AS oldest_response
