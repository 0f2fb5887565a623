-- name: policies
-- section: §7 DB RLS 감사, §5 DB/보안 변경 추가 규칙
-- Every row-level security policy on a table of the exposed schemas, as the server deparses it (catalog only).
-- param: schemas text[]  the schemas PostgREST (and the Storage API) expose
SELECT p.schemaname::text AS schema_name,
       p.tablename::text AS table_name,
       p.policyname::text AS policy,
       p.permissive::text AS permissive,
       p.cmd::text AS cmd,
       p.roles::text[] AS roles,
       p.qual AS using_expr,
       p.with_check AS check_expr
FROM pg_catalog.pg_policies p
WHERE p.schemaname = ANY (:schemas)
ORDER BY 1, 2, 3
