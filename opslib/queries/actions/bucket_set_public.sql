-- name: bucket_set_public
-- section: §3-D 최소 완화 (public 접근 제한 + signed URL 전환)
-- Set one storage bucket's public flag (false: objects served only through RLS or signed URLs).
-- param: bucket_id text  storage bucket id
-- param: public bool  the new flag
UPDATE storage.buckets
SET public = :public, updated_at = now()
WHERE id = :bucket_id
RETURNING id AS bucket_id, public, file_size_limit, updated_at
