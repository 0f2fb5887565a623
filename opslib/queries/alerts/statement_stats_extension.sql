-- name: statement_stats_extension
-- section: §4-E 인프라 (DB P95 응답 시간)
-- Is pg_stat_statements installed in this database (CREATE EXTENSION), in which schema, and could it
-- be (shipped with the server)? Supabase has it in `extensions`; a bare PostgreSQL has it available
-- but not installed. Whether its library is preloaded (shared_preload_libraries) is not readable
-- without superuser: reading the view says so. Reads the catalogue only (one row).
SELECT e.extversion AS installed_version,
       n.nspname AS extension_schema,
       EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.name = 'pg_stat_statements') AS available
FROM (SELECT 1) one
LEFT JOIN pg_extension e ON e.extname = 'pg_stat_statements'
LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
