-- name: profiles_exist
-- section: §3-E 트리아지 1
-- Whether the platform has any user profile at all (an empty database has no admins to lose).
SELECT EXISTS (SELECT 1 FROM public.user_profiles) AS any_profile
