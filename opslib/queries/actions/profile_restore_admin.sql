-- name: profile_restore_admin
-- section: §3-E 최소 완화 (관리자 접근 복구: DB 직접 쿼리로 역할 확인/복원)
-- Make exactly this user an active admin again (role 'admin', status 'active').
-- param: user_id text  the user's id (uuid text)
UPDATE public.user_profiles
SET role = 'admin', status = 'active'
WHERE id = CAST(:user_id AS uuid)
RETURNING id, role, status, updated_at
