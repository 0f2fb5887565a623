-- name: bucket_objects
-- section: §3-D 트리아지 2 / 최소 완화 (objects a public flag exposes)
-- Objects and bytes in the given buckets (the ones a public flag exposes, or an action would change),
-- with the newest object. Its cost is those buckets' size, never the window's: bucketid_objname leads
-- with bucket_id, and for a bucket holding much of storage.objects the planner scans instead.
-- param: bucket_ids text[] storage bucket ids
SELECT o.bucket_id,
       count(*)::bigint AS objects,
       coalesce(sum(CASE WHEN jsonb_typeof(o.metadata -> 'size') = 'number'
                         THEN (o.metadata ->> 'size')::numeric END), 0)::bigint AS bytes,
       max(o.created_at) AS newest_at
FROM storage.objects o
WHERE o.bucket_id = ANY (:bucket_ids)
GROUP BY o.bucket_id
ORDER BY o.bucket_id
