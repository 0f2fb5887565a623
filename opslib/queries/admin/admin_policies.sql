-- name: admin_policies
-- section: §3-E 복구 (정책 확인)
-- Row-level security policies now on the tables ops-manage writes for an admin, from the catalog
-- (pg_policies; the catalog keeps no history: compare with the contract's list).
-- param: schemas text[] schema of each table
-- param: tables text[] table names
SELECT p.schemaname, p.tablename, p.policyname, p.cmd, p.roles::text AS roles, p.qual, p.with_check,
       c.relrowsecurity AS rls_enabled
FROM pg_policies p
JOIN pg_namespace n ON n.nspname = p.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename
WHERE (p.schemaname, p.tablename) IN (SELECT * FROM unnest(CAST(:schemas AS text[]), CAST(:tables AS text[])))
ORDER BY 1, 2, 3
