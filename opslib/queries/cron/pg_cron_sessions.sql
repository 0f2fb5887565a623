-- name: pg_cron_sessions
-- section: §3-F 트리아지 (lock contention, long-running jobs)
-- pg_cron's sessions now: the launcher and the job connections it opened (application_name
-- 'pg_cron' / backend type 'pg_cron launcher'), with what blocks them. The query text needs
-- pg_read_all_stats to be visible for other users' sessions (opslib/sql/roles.sql).
SELECT a.pid,
       a.backend_type,
       a.application_name,
       a.usename,
       a.state,
       a.wait_event_type,
       a.wait_event,
       a.xact_start,
       a.query_start,
       extract(epoch FROM now() - coalesce(a.xact_start, a.query_start))::float8 AS running_s,
       pg_blocking_pids(a.pid) AS blocked_by,
       left(a.query, 300) AS query
FROM pg_stat_activity a
WHERE a.application_name ILIKE 'pg_cron%'
   OR a.backend_type ILIKE 'pg_cron%'
ORDER BY a.xact_start NULLS LAST, a.pid
