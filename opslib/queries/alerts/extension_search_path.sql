-- name: extension_search_path
-- section: §4-E 인프라 (DB P95 응답 시간)
-- Put the schema pg_stat_statements lives in (`extensions` on Supabase) on this read-only
-- transaction's search path, as a bound value (set_config, local to the transaction), so that
-- alerts.statement_times finds the view wherever the extension was created.
-- param: schema text the extension's schema (from alerts.statement_stats_extension)
SELECT set_config('search_path', quote_ident(:schema) || ', pg_catalog, public', true) AS search_path
