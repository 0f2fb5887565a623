-- name: buckets
-- section: §7 DB RLS 감사, §3-D 트리아지 2 (버킷 권한)
-- Every storage bucket and whether it serves its objects publicly (a small table, read whole).
SELECT b.id AS bucket_id, b.public, b.updated_at
FROM storage.buckets b
ORDER BY b.id
