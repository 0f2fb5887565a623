-- name: bucket_usage
-- section: §3-D 트리아지 4 (버킷 용량 한도 확인)
-- Each bucket's object count and bytes from storage.objects metadata (the size the Storage API
-- recorded), the largest object, objects above the bucket's file_size_limit or of a MIME type it does
-- not allow, and what was added since the window start. Capacity is a property of the whole bucket:
-- this query reads every object row once (a sequential scan by design, like a bucket listing).
-- Delete markers (versioning) hold no bytes and are left out.
-- param: since timestamptz start of the window: objects created since then are "new"
SELECT o.bucket_id,
       count(*)::bigint AS objects,
       coalesce(sum(o.size), 0)::bigint AS bytes,
       max(o.size)::bigint AS largest_bytes,
       count(*) FILTER (WHERE b.file_size_limit IS NOT NULL AND o.size > b.file_size_limit)::bigint AS over_size_limit,
       count(*) FILTER (WHERE b.allowed_mime_types IS NOT NULL AND o.mimetype IS NOT NULL
                          AND NOT (o.mimetype = ANY (b.allowed_mime_types)))::bigint AS disallowed_mime,
       count(*) FILTER (WHERE o.size IS NULL)::bigint AS without_size,
       count(*) FILTER (WHERE o.created_at >= :since)::bigint AS new_objects,
       coalesce(sum(o.size) FILTER (WHERE o.created_at >= :since), 0)::bigint AS new_bytes
FROM (
  SELECT x.bucket_id, x.created_at,
         CASE WHEN jsonb_typeof(x.metadata -> 'size') = 'number' THEN (x.metadata ->> 'size')::numeric END AS size,
         x.metadata ->> 'mimetype' AS mimetype
  FROM storage.objects x
  WHERE NOT x.is_delete_marker
) o
LEFT JOIN storage.buckets b ON b.id = o.bucket_id
GROUP BY o.bucket_id
ORDER BY o.bucket_id
