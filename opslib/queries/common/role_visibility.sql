-- name: role_visibility
-- section: DESIGN read-only wall
-- Can the current role see through row-level security on the tables the runbooks read?
-- A role without BYPASSRLS (and not the owner) sees every RLS table empty: all clear, falsely.
SELECT c.relnamespace::regnamespace::text AS schema_name,
       c.relname                          AS table_name,
       c.relrowsecurity                   AS rls_enabled,
       has_table_privilege(c.oid, 'SELECT') AS can_select,
       r.rolbypassrls OR r.rolsuper OR pg_has_role(c.relowner, 'USAGE') AS sees_all_rows
FROM pg_class c
CROSS JOIN pg_roles r
WHERE r.rolname = current_user
  AND c.relkind IN ('r', 'p')
  AND (c.relnamespace::regnamespace::text, c.relname) IN (
        ('public', 'dt_purchases'), ('public', 'wallet_ledger'), ('public', 'wallet_accounts'),
        ('public', 'wallet_transactions'), ('public', 'payment_webhook_logs'), ('public', 'pg_transactions'),
        ('public', 'reconciliation_runs'), ('public', 'reconciliation_items'), ('public', 'refunds'),
        ('public', 'idempotency_keys'), ('public', 'feature_flags'), ('public', 'messages'),
        ('public', 'message_delivery'), ('public', 'user_profiles'), ('public', 'admin_audit_log'),
        ('public', 'ops_audit_log'), ('cron', 'job_run_details'), ('logs', 'function_edge_logs'),
        ('logs', 'auth_logs'), ('logs', 'edge_logs'))
ORDER BY 1, 2
