-- name: lock_holders
-- section: DESIGN one sentence for a lock wait
-- Sessions holding, or queued for, an ACCESS EXCLUSIVE lock in this database: the only relation lock a
-- plain read (ACCESS SHARE) waits behind. Read right after a page query hit lock_timeout.
SELECT l.relation::regclass::text                         AS table_name,
       l.mode                                             AS mode,
       l.granted                                          AS granted,
       l.pid                                              AS pid,
       a.application_name                                 AS application_name,
       a.usename                                          AS user_name,
       extract(epoch FROM now() - coalesce(a.xact_start, a.query_start))::bigint AS held_seconds,
       a.query                                            AS query,
       pg_blocking_pids(l.pid)                            AS blocked_by
FROM pg_locks l
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation'
  AND l.mode = 'AccessExclusiveLock'
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.pid <> pg_backend_pid()
ORDER BY l.granted DESC, held_seconds DESC NULLS LAST
LIMIT 20
