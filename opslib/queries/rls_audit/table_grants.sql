-- name: table_grants
-- section: §7 DB RLS 감사, §5 DB/보안 변경 추가 규칙
-- Table, view and sequence privileges the API roles (anon, authenticated) and PUBLIC hold in the exposed schemas (catalog only).
-- param: schemas text[]  the schemas PostgREST (and the Storage API) expose
SELECT n.nspname AS schema_name,
       c.relname AS table_name,
       c.relkind::text AS kind,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END AS grantee,
       ARRAY_AGG(a.privilege_type ORDER BY a.privilege_type) AS privileges
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL pg_catalog.aclexplode(COALESCE(c.relacl, pg_catalog.acldefault('r', c.relowner))) a
WHERE n.nspname = ANY (:schemas)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND (a.grantee = 0 OR pg_catalog.pg_get_userbyid(a.grantee) IN ('anon', 'authenticated'))
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 4
