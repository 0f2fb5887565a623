-- name: tables
-- section: §7 DB RLS 감사 (DB_RLS_AUDIT: "94/95 테이블 적용")
-- Every table in the exposed schemas with its row-level security flags and policy count (catalog only: not window-bound).
-- param: schemas text[]  the schemas PostgREST (and the Storage API) expose
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       c.relkind::text AS kind,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)::int AS policies
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (:schemas)
  AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
ORDER BY 1, 2
