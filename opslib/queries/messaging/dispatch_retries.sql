-- name: dispatch_retries
-- section: §3-C 트리아지 1 (scheduled-dispatcher: dispatch_attempts 증가, last_dispatch_error)
-- Messages not yet sent that the dispatcher has tried more than once or that carry a dispatch
-- error, grouped by status and error: pending and processing ones through their partial indexes
-- (a state), failed ones created since :failed_since (messages_created_idx from
-- recommended_indexes.sql; without it a scan of messages).
-- param: failed_since timestamptz failed messages created since then are listed (UTC)
SELECT x.scheduled_status AS status, coalesce(left(x.last_dispatch_error, 160), '-') AS last_dispatch_error,
       count(*)::bigint AS messages, max(x.dispatch_attempts)::int AS max_attempts,
       round(avg(x.dispatch_attempts), 1)::float8 AS avg_attempts,
       min(coalesce(x.scheduled_at, x.created_at)) AS oldest_due, max(x.updated_at) AS last_update
FROM (
  SELECT m.* FROM public.messages m
  WHERE m.scheduled_status = 'pending' AND (m.dispatch_attempts >= 2 OR m.last_dispatch_error IS NOT NULL)
  UNION ALL
  SELECT m.* FROM public.messages m
  WHERE m.scheduled_status = 'processing' AND (m.dispatch_attempts >= 2 OR m.last_dispatch_error IS NOT NULL)
  UNION ALL
  SELECT m.* FROM public.messages m
  WHERE m.scheduled_status = 'failed' AND m.created_at >= :failed_since
) x
GROUP BY 1, 2
ORDER BY messages DESC, status
