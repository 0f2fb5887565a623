-- name: banner_live
-- section: §3-A 최소 완화 ("일시 점검" banner), §3-B 최소 완화 ("로그인 점검 중" notice)
-- Live banners carrying the given title (the maintenance banner is recognised by its title).
-- param: title text  banner title
SELECT id, title, placement, platform, priority, is_active, starts_at, ends_at, image_path, link_url
FROM public.banners
WHERE title = :title AND is_active
  AND (starts_at IS NULL OR starts_at <= now()) AND (ends_at IS NULL OR ends_at > now())
ORDER BY created_at
