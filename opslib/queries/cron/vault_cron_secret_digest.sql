-- name: vault_cron_secret_digest
-- section: §3-F 트리아지 (401) / §3-C 최소 완화
-- The SHA-256 digest of Vault's cron_secret, computed inside the database by opsbook's own
-- SECURITY DEFINER function (opslib/sql/roles.sql): the secret itself never leaves it.
SELECT d.sha256_hex,
       d.updated_at
FROM opsbook.cron_secret_sha256() d
