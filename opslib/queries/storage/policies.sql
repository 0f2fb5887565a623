-- name: policies
-- section: §3-D 트리아지 2 (Dashboard → Storage → Policies)
-- The row-level security policies on storage.objects and storage.buckets as the server holds them
-- (pg_policies: deparsed expressions), and whether RLS is enabled on each table at all.
SELECT c.relname AS table_name,
       c.relrowsecurity AS rls_enabled,
       p.policyname,
       p.permissive,
       p.roles::text[] AS roles,
       p.cmd,
       p.qual,
       p.with_check
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'storage'
LEFT JOIN pg_policies p ON p.schemaname = 'storage' AND p.tablename = c.relname
WHERE c.relname IN ('objects', 'buckets') AND c.relkind IN ('r', 'p')
ORDER BY c.relname, p.policyname
