-- name: role_write_privileges
-- section: DESIGN read-only wall (every page, before it measures)
-- Every way the current role could change something, and whether it holds it itself (or through a
-- role it belongs to) or only because PUBLIC does: INSERT/UPDATE/DELETE/TRUNCATE/TRIGGER on tables and
-- views, USAGE/UPDATE on sequences (nextval writes), CREATE on schemas, CREATE/TEMPORARY on the database,
-- EXECUTE on functions that write or call out (SECURITY DEFINER and volatile with a writing body,
-- net.http_*, cron.schedule & co, dblink), role attributes, and roles it may SET ROLE to.
-- Only catalogs are read: the cost grows with the number of objects, not with the data.
WITH reach AS (
  SELECT n.oid, n.nspname, coalesce(n.nspacl, acldefault('n', n.nspowner)) AS acl
  FROM pg_namespace n
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND n.nspname !~ '^pg_(toast_)?temp_'
),
rel AS (
  SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'view' ELSE 'table' END AS kind,
         format('%I.%I', r.nspname, c.relname) AS object, p.privilege,
         coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl
  FROM pg_class c
  JOIN reach r ON r.oid = c.relnamespace
  JOIN LATERAL unnest(CASE WHEN c.relkind = 'S' THEN ARRAY['USAGE', 'UPDATE']
                           ELSE ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER'] END) p(privilege) ON true
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    AND has_schema_privilege(r.oid, 'USAGE')
    AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, p.privilege)
             WHEN p.privilege IN ('INSERT', 'UPDATE') THEN has_any_column_privilege(c.oid, p.privilege)
             ELSE has_table_privilege(c.oid, p.privilege) END
),
fn AS (
  SELECT 'function' AS kind, format('%I.%I(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes)) AS object, 'EXECUTE' AS privilege,
         coalesce(p.proacl, acldefault('f', p.proowner)) AS acl
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE p.pronamespace IN (SELECT r.oid FROM reach r WHERE has_schema_privilege(r.oid, 'USAGE'))
    AND p.pronamespace <> 'pg_catalog'::regnamespace  -- 3,000 built-ins, skipped before any privilege test
    AND p.prokind IN ('f', 'p')
    AND (   (n.nspname = 'net' AND p.proname LIKE 'http\_%')
         OR (n.nspname = 'cron' AND p.proname IN ('schedule', 'unschedule', 'alter_job', 'schedule_in_database'))
         OR p.proname LIKE 'dblink%'
         OR (p.prosecdef AND p.provolatile = 'v' AND p.prorettype <> 'trigger'::regtype
             AND (p.prolang NOT IN (SELECT l.oid FROM pg_language l WHERE l.lanname IN ('sql', 'plpgsql'))
                  OR p.prosrc ~* '\m(insert|update|delete|truncate|merge|copy|execute|http_\w+|dblink\w*)\M')))
    AND has_function_privilege(p.oid, 'EXECUTE')
),
nsp AS (
  SELECT 'schema' AS kind, quote_ident(r.nspname) AS object, 'CREATE' AS privilege, r.acl
  FROM reach r
  WHERE has_schema_privilege(r.oid, 'CREATE')
),
dbase AS (
  SELECT 'database' AS kind, quote_ident(d.datname) AS object, p.privilege,
         coalesce(d.datacl, acldefault('d', d.datdba)) AS acl
  FROM pg_database d
  CROSS JOIN unnest(ARRAY['CREATE', 'TEMPORARY']) p(privilege)
  WHERE d.datname = current_database() AND has_database_privilege(d.oid, p.privilege)
),
objects AS (
  SELECT kind, object, privilege, acl FROM rel
  UNION ALL SELECT kind, object, privilege, acl FROM fn
  UNION ALL SELECT kind, object, privilege, acl FROM nsp
  UNION ALL SELECT kind, object, privilege, acl FROM dbase
)
SELECT o.kind, o.object, o.privilege,
       -- PUBLIC only when PUBLIC holds it and the role does not on its own; anything else (a column
       -- grant, a default privilege) is counted as the role's: never excused by mistake
       CASE WHEN EXISTS (SELECT 1 FROM aclexplode(o.acl) a
                         WHERE a.grantee <> 0 AND a.privilege_type = o.privilege AND pg_has_role(a.grantee, 'USAGE'))
            THEN 'role'
            WHEN EXISTS (SELECT 1 FROM aclexplode(o.acl) a WHERE a.grantee = 0 AND a.privilege_type = o.privilege)
            THEN 'PUBLIC'
            ELSE 'role' END AS via
FROM objects o
UNION ALL
SELECT 'role attribute', quote_ident(r.rolname), a.attribute, 'role'
FROM pg_roles r
CROSS JOIN LATERAL (VALUES ('SUPERUSER', r.rolsuper), ('CREATEROLE', r.rolcreaterole), ('CREATEDB', r.rolcreatedb),
                           ('REPLICATION', r.rolreplication)) a(attribute, held)
WHERE r.rolname = current_user AND a.held
UNION ALL
SELECT 'role', quote_ident(g.rolname), 'SET ROLE', 'role'
FROM pg_roles g
WHERE g.rolname <> current_user
  AND pg_has_role(g.oid, 'MEMBER')
  -- the predefined roles that only read
  AND g.rolname NOT IN ('pg_read_all_data', 'pg_read_all_settings', 'pg_read_all_stats', 'pg_stat_scan_tables',
                        'pg_monitor')
ORDER BY 4 DESC, 1, 2, 3
