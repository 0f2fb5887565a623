-- name: definer_functions
-- section: §7 DB RLS 감사, §5 DB/보안 변경 추가 규칙
-- SECURITY DEFINER functions in the exposed schemas: their search_path setting and who may EXECUTE them (catalog only).
-- param: schemas text[]  the schemas PostgREST (and the Storage API) expose
SELECT n.nspname AS schema_name,
       p.proname AS function_name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) AS arguments,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       (SELECT s FROM pg_catalog.unnest(p.proconfig) s WHERE s LIKE 'search\_path=%' LIMIT 1) AS search_path,
       ARRAY(
         SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee) END
         FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
         WHERE a.privilege_type = 'EXECUTE'
         ORDER BY 1
       ) AS executors
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY (:schemas)
  AND p.prosecdef
ORDER BY 1, 2, 3
