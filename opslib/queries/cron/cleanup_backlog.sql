-- name: cleanup_backlog
-- section: §3-F 트리아지 (cleanup jobs: tables they keep small)
-- Rows each cleanup job should already have deleted, counted up to a cap (the count is what
-- grows when the job stops; the cap keeps the query's cost bounded): rate_limits windows
-- older than a day (rate_limits_window_idx), expired idempotency_keys
-- (idempotency_keys_expires_idx), cron.job_run_details older than 14 days (no index: the
-- table is what the cleanup keeps small). `slack`: one job period plus a margin.
-- param: at timestamptz the instant judged (the window end, or now if earlier)
-- param: rate_limits_slack interval extra age allowed before a rate_limits row is overdue
-- param: idempotency_slack interval extra age allowed past expires_at
-- param: history_slack interval extra age allowed past 14 days of cron history
-- param: cap int count at most this many rows per table
SELECT 'rate-limits-cleanup' AS job, 'public.rate_limits' AS table_name,
       (SELECT count(*) FROM (SELECT 1 FROM public.rate_limits r
                              WHERE r.window_start < :at - interval '1 day' - :rate_limits_slack
                              LIMIT :cap) x)::bigint AS overdue_rows,
       (SELECT min(r.window_start) FROM public.rate_limits r) AS oldest
UNION ALL
SELECT 'idempotency-keys-cleanup', 'public.idempotency_keys',
       (SELECT count(*) FROM (SELECT 1 FROM public.idempotency_keys k
                              WHERE k.expires_at < :at - :idempotency_slack
                              LIMIT :cap) x)::bigint,
       (SELECT min(k.expires_at) FROM public.idempotency_keys k)
UNION ALL
SELECT 'cron-history-cleanup', 'cron.job_run_details',
       (SELECT count(*) FROM (SELECT 1 FROM cron.job_run_details d
                              WHERE d.end_time < :at - interval '14 days' - :history_slack
                              LIMIT :cap) x)::bigint,
       (SELECT min(d.end_time) FROM cron.job_run_details d)
