-- name: privileged_roles
-- section: §7 DB RLS 감사
-- Roles that row-level security does not stop: BYPASSRLS or superuser (catalog only).
SELECT r.rolname AS role_name, r.rolbypassrls AS bypassrls, r.rolsuper AS superuser, r.rolcanlogin AS can_login
FROM pg_catalog.pg_roles r
WHERE r.rolbypassrls OR r.rolsuper
ORDER BY 1
