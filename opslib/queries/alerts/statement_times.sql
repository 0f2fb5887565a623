-- name: statement_times
-- section: §4-E 인프라 (DB P95 응답 시간)
-- The database's statement response time from pg_stat_statements (the view Supabase's Query
-- Performance dashboard reads; found through the search path, `extensions` on Supabase): the 95th
-- percentile of the statements' mean execution times weighted by their calls, the weighted mean,
-- calls and statements, since the statistics were last reset. pg_stat_statements keeps a mean per
-- statement, not every call, so this is the P95 over statement means. The board's own statements
-- (this session's role) are left out. Bounded by pg_stat_statements.max, not by any app table.
WITH s AS (
  SELECT st.calls, st.mean_exec_time AS mean_ms
  FROM pg_stat_statements st
  WHERE st.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
    AND st.userid <> (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user)
    AND st.calls > 0
), o AS (
  SELECT s.mean_ms,
         sum(s.calls) OVER (ORDER BY s.mean_ms ROWS UNBOUNDED PRECEDING) AS running,
         sum(s.calls) OVER () AS total
  FROM s
)
SELECT coalesce((SELECT sum(s.calls) FROM s), 0)::bigint AS calls,
       (SELECT count(*) FROM s) AS statements,
       (SELECT min(o.mean_ms) FROM o WHERE o.running >= 0.95 * o.total) AS p95_ms,
       (SELECT sum(s.mean_ms * s.calls) / nullif(sum(s.calls), 0) FROM s) AS mean_ms,
       (SELECT max(s.mean_ms) FROM s) AS slowest_mean_ms,
       (SELECT i.stats_reset FROM pg_stat_statements_info i) AS stats_reset
