-- name: buckets
-- section: §3-D 트리아지 2 (버킷 권한) / 트리아지 4 (용량)
-- Every storage bucket with its public flag, size limit and allowed MIME types (small table).
SELECT b.id AS bucket_id, b.name, b.public, b.file_size_limit, b.allowed_mime_types, b.created_at, b.updated_at
FROM storage.buckets b
ORDER BY b.id
