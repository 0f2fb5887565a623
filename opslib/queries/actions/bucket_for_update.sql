-- name: bucket_for_update
-- section: §3-D 최소 완화 (public 접근 제한)
-- Lock one storage bucket's row for the switch, with its objects (count, bytes).
-- param: bucket_id text  storage bucket id
SELECT b.id AS bucket_id, b.public, b.file_size_limit, b.updated_at,
       (SELECT count(*) FROM storage.objects o WHERE o.bucket_id = b.id)::bigint AS objects,
       (SELECT coalesce(sum(CASE WHEN jsonb_typeof(o.metadata -> 'size') = 'number'
                                 THEN (o.metadata ->> 'size')::numeric END), 0)
        FROM storage.objects o WHERE o.bucket_id = b.id)::bigint AS bytes
FROM storage.buckets b
WHERE b.id = :bucket_id
FOR UPDATE OF b
