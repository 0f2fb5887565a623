-- name: exposed_config
-- section: §7 DB RLS 감사
-- The schemas PostgREST's in-database configuration exposes (pgrst.db_schemas on the authenticator role or this database), if set.
SELECT s.setting
FROM pg_catalog.pg_db_role_setting d
CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) s(setting)
LEFT JOIN pg_catalog.pg_roles r ON r.oid = d.setrole
WHERE (d.setdatabase = 0 OR d.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()))
  AND (d.setrole = 0 OR r.rolname = 'authenticator')
  AND s.setting LIKE 'pgrst.db\_schemas=%'
