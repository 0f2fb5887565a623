-- name: profile_for_update
-- section: §3-E 최소 완화 (관리자 접근 복구)
-- One user's role and status, locked for the rest of the action's transaction.
-- param: user_id text  the user's id (uuid text; the caller has checked its form)
SELECT id, role, status, updated_at
FROM public.user_profiles
WHERE id = CAST(:user_id AS uuid)
FOR UPDATE
