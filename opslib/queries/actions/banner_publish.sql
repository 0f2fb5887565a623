-- name: banner_publish
-- section: §3-A 최소 완화 ("일시 점검" banner), §3-B 최소 완화 ("로그인 점검 중" notice)
-- Publish the maintenance banner (active now, top priority, every platform).
-- param: title text  banner title
-- param: image_path text  storage path in bucket 'banners'
-- param: placement text  where it shows
-- param: created_by text  operator's auth.users id, or empty
INSERT INTO public.banners (title, image_path, placement, platform, priority, is_active, starts_at, created_by)
VALUES (:title, :image_path, :placement, 'all', 1000, true, now(), CAST(NULLIF(:created_by, '') AS uuid))
RETURNING id, title, placement, platform, priority, is_active, starts_at, ends_at, image_path, link_url
