-- name: banner_unpublish
-- section: §3-A 최소 완화 ("일시 점검" banner), §3-B 최소 완화 ("로그인 점검 중" notice)
-- Take live maintenance banners down (recovery).
-- param: title text  banner title
UPDATE public.banners SET is_active = false, ends_at = now()
WHERE title = :title AND is_active
RETURNING id, title, placement, platform, priority, is_active, starts_at, ends_at, image_path, link_url
