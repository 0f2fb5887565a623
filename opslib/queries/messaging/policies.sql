-- name: policies
-- section: §3-C 트리아지 4 (RLS 정책이 팬 읽기를 차단하는지)
-- Row-level security as the database has it now on the messaging tables: whether RLS is on for
-- public.messages, public.message_delivery and storage.objects, and every policy on them (on
-- storage.objects, the message-media bucket's, recognised by name or by the bucket in its
-- expressions). Catalog only (pg_class, pg_policies).
SELECT c.relnamespace::regnamespace::text AS schema_name, c.relname AS table_name,
       c.relrowsecurity AS rls_enabled,
       p.policyname, p.cmd, p.permissive, p.roles::text[] AS roles,
       p.qual AS using_expr, p.with_check AS check_expr
FROM pg_class c
LEFT JOIN pg_policies p
  ON p.schemaname = c.relnamespace::regnamespace::text AND p.tablename = c.relname
 AND (c.relname <> 'objects'
      OR p.policyname LIKE 'message-media%'
      OR coalesce(p.qual, '') LIKE '%message-media%'
      OR coalesce(p.with_check, '') LIKE '%message-media%')
WHERE c.oid IN (to_regclass('public.messages'), to_regclass('public.message_delivery'), to_regclass('storage.objects'))
ORDER BY schema_name, table_name, p.policyname
