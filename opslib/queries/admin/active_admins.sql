-- name: active_admins
-- section: §3-E 트리아지 1 (관리자 로그인/권한 확인: user_profiles.role = 'admin')
-- Every profile with role 'admin' and whether that admin can still get in: status 'active'
-- (the contract's definition) and an auth user that is neither banned nor deleted at `until`
-- (user_profiles_role_idx: the partial index on role <> 'fan').
-- param: until timestamptz end of the window (UTC)
SELECT p.id AS user_id, p.role, p.status, p.updated_at,
       u.email, u.last_sign_in_at, u.banned_until, u.deleted_at,
       (p.status = 'active' AND u.deleted_at IS NULL
        AND (u.banned_until IS NULL OR u.banned_until <= :until)) AS can_get_in
FROM public.user_profiles p
LEFT JOIN auth.users u ON u.id = p.id
WHERE p.role = 'admin'
ORDER BY can_get_in DESC, p.updated_at DESC
